"""The open workspace (``state.Workspace``, the Qt model every view follows) and the File menu's flows that
open, create and export it (``files.WorkspaceFiles``)."""

from desktop.ui.workspace.state import Workspace

__all__ = ["Workspace"]
