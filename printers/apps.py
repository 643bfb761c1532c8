from django.apps import AppConfig


class PrintersConfig(AppConfig):
    name = "printers"
