"""What gunicorn serves: ``gunicorn wsgi:app``."""

from hotline.app import create_app

app = create_app()
