"""pydantic models at every boundary: the API's requests and responses, and the vocabulary."""
