"""The assistant: its panel, the parts behind it (conversations, turns, model), the model owner thread and the model manager."""
