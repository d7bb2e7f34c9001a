"""marshmallow schemas, one module per resource: what the API takes and answers, what the
public form and the consoles' action forms take (the same definitions), and the fields they
are built from (``fields``). Schemas never touch the database."""
