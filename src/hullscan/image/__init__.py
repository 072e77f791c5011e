"""Image sources: turn a reference into an `Image` whose layers can be streamed and verified."""
