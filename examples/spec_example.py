"""The spec's "Complete Example (Python)", unchanged but for where its three constants come from.

Run against a local server: ``eval "$(.venv/bin/python manage.py demo_token)"`` exports ACCESS_TOKEN
and PRINTER_ID; then ``cd examples && ../.venv/bin/python spec_example.py`` sends the sample
``examples/snapshot.jpg`` (any webcam JPEG named ``snapshot.jpg`` in the current folder will do).
"""

import os

import requests

BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8000")
ACCESS_TOKEN = os.environ["ACCESS_TOKEN"]
PRINTER_ID = int(os.environ["PRINTER_ID"])

headers = {
    "Authorization": f"Bearer {ACCESS_TOKEN}",
    "Content-Type": "application/json",
}

# 1. Start a print
response = requests.post(
    f"{BASE_URL}/api/v1/printers/{PRINTER_ID}/start_print/",
    headers=headers,
    json={"filename": "benchy.gcode"},
)
print("Started print:", response.json())

# 2. During printing - send images for detection
with open("snapshot.jpg", "rb") as f:
    response = requests.post(
        f"{BASE_URL}/api/v1/printers/{PRINTER_ID}/predict/",
        headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
        files={"img": f},
    )
    result = response.json().get("result", {})
    print("Detection result:", result)

    # Use temporal stats to determine failure
    ewm_mean = result.get("temporal_stats", {}).get("ewm_mean", 0)
    rolling_mean_long = result.get("temporal_stats", {}).get("rolling_mean_long", 0)
    if ewm_mean - rolling_mean_long > 0.78:
        print("Warning: Possible failure detected!")

# 3. Finish the print
response = requests.post(
    f"{BASE_URL}/api/v1/printers/{PRINTER_ID}/finish_print/",
    headers=headers,
    json={"status": "success"},
)
print("Finished print:", response.json())
