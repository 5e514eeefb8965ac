"""The on-device language model: model files (catalog, manifest, header, trial load), the engine, prompts.

No Qt here: the Qt owner thread lives in ``desktop.ui.chat.model_worker`` and only calls into this package.
"""
