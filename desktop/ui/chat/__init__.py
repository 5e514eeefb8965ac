"""The assistant panel, its controller, the model owner thread and the model manager."""
