"""The admin web page: static files served at ``/ui``, a script that speaks only ``/v1``."""
