from bandstand.cli import app

app()
