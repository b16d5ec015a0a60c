"""Evidence for items: upload checks, storage, services, and (views.py, with its blueprint) the pages that
add, download and remove it. The blueprint lives in views.py so that importing the checks or the services does
not load the pages."""
