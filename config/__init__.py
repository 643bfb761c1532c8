"""The project's configuration: settings, root URLs, the WSGI/ASGI entry points and the probes.

It sits on top of every app and knows them all; the apps and the shared plumbing (obico_api) know none of it.
"""
