"""Reading inputs as documents and streaming the corpus they make."""
