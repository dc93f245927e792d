"""Songs: verified upload, storage, seekable streaming and the catalogue."""
