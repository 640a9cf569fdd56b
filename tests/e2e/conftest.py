from tests.integration.conftest import prefix, redis_url  # noqa: F401  (the same real Redis)
