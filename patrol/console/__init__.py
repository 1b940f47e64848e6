"""The operator console: a FastAPI web app over the planner, the runner's store and control
channel, the message library and the flag store. ``create_app`` builds it; ``patrol serve``
runs it with uvicorn."""
