"""What gunicorn serves: ``gunicorn wsgi:app``."""

from hotline.app import create_app, warm_up
from notifications.inline import install

app = create_app()
install(app)  # after each change, notifications are handed on (Redis or in-process)
warm_up(app)  # each worker compiles routing before its first request (gunicorn.conf.py)
