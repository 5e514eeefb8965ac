"""Developer helpers: widget previews and the packaged app's smoke-test driver."""
