"""A real Celery worker for tests where delivery matters."""
