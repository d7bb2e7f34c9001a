"""What gunicorn serves: ``gunicorn wsgi:app``."""

from hotline.app import create_app, warm_up

app = create_app()
warm_up(app)  # with gunicorn --preload this runs once, before the workers fork
