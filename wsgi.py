"""What gunicorn serves: ``gunicorn wsgi:app``."""

from hotline.app import create_app, warm_up
from hotline.background.imports import install as install_imports
from notifications.inline import install

app = create_app()
install(app)  # after each change, notifications are handed on (Redis or in-process)
install_imports(app)  # a large upload's batch goes to the imports queue once answered
warm_up(app)  # each worker compiles routing before its first request (gunicorn.conf.py)
