// The spec's journey, and its error paths, through a client generated from the live schema:
// openapi-typescript's types, openapi-fetch's calls. tests/config/test_generated_clients.py generates
// generated/schema.ts, type-checks this file with `tsc --strict` and runs it against a live server.
// Every id passed to a path is the integer the API returned: no casts anywhere.
import { readFile } from "node:fs/promises";

import createClient from "openapi-fetch";

import type { components, paths } from "./generated/schema.js";

type ApiError = components["schemas"]["Error"];
type Detection = components["schemas"]["Detection"];

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`journey: ${message}`);
}

function checkError(error: ApiError | undefined, response: Response, status: number, code: string): ApiError {
  check(response.status === status, `expected ${status}, got ${response.status}`);
  check(error !== undefined && error.code === code, `expected code ${code}, got ${JSON.stringify(error)}`);
  return error;
}

const baseUrl = env("BASE_URL");
const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${env("ACCESS_TOKEN")}` } });
const jpeg = new Blob([await readFile(env("SNAPSHOT"))], { type: "image/jpeg" });

// A multipart body: the schema types img as a string (binary); the form carries the file.
function snapshot(image: Blob) {
  return {
    body: { img: "snapshot.jpg" },
    bodySerializer: () => {
      const form = new FormData();
      form.append("img", image, "snapshot.jpg");
      return form;
    },
  };
}

// 1. List printers: the demo's printer is there.
const listed = await api.GET("/api/v1/printers/");
check(listed.data, `list printers: ${listed.response.status}`);
const printer = listed.data.find((each) => each.id === Number(env("PRINTER_ID")));
check(printer, "the demo printer is listed");
const onPrinter = { params: { path: { printer_id: printer.id } } };

// 2. Start a print; starting again is the already-printing 400.
const started = await api.POST("/api/v1/printers/{printer_id}/start_print/", {
  ...onPrinter,
  body: { filename: "benchy.gcode" },
});
check(started.data?.succeeded === true, `start: ${started.response.status}`);
const current = started.data.printer.current_print;
check(current !== null && current.filename === "benchy.gcode", "the print is current");
const again = await api.POST("/api/v1/printers/{printer_id}/start_print/", { ...onPrinter, body: { filename: "x.gcode" } });
const conflict = checkError(again.error, again.response, 400, "already_printing");
check(conflict.details?.["non_field_errors"]?.[0] === conflict.error, "the conflict under non_field_errors");

// 3. Predict; a file that is not an image is a 400 about img.
const predicted = await api.POST("/api/v1/printers/{printer_id}/predict/", { ...onPrinter, ...snapshot(jpeg) });
check(predicted.data, `predict: ${predicted.response.status}`);
const result = predicted.data.result;
check(result.temporal_stats.prediction_num === 1, "one prediction counted");
const verdicts: ReadonlyArray<components["schemas"]["VerdictEnum"]> = ["ok", "warning", "failure"];
check(verdicts.includes(result.verdict), `a verdict: ${result.verdict}`);
const boxes: Detection[] = result.detections;
for (const [confidence, box] of boxes) {
  check(typeof confidence === "number" && Array.isArray(box) && box.length === 4, "[confidence, [xc, yc, w, h]]");
}
const junk = await api.POST("/api/v1/printers/{printer_id}/predict/", {
  ...onPrinter,
  ...snapshot(new Blob(["not an image"], { type: "image/jpeg" })),
});
check(checkError(junk.error, junk.response, 400, "invalid").details?.["img"]?.length === 1, "the error is img's");

// 4. History: the print's predictions, and the printer's status.
const history = await api.GET("/api/v1/prints/{print_id}/predictions/", {
  params: { path: { print_id: current.id } },
});
check(history.data?.count === 1 && history.data.results[0]?.verdict === result.verdict, "the history");
const status = await api.GET("/api/v1/printers/{printer_id}/", onPrinter);
check(status.data?.status.verdict === result.verdict, "the printer's verdict");

// 5. Alerts: the caller's prints, newest first, and the first alert's snapshot, as bytes with the token
//    and through its signed link without one.
const prints = await api.GET("/api/v1/prints/");
check(prints.data, `list prints: ${prints.response.status}`);
let alert: components["schemas"]["AlertOutput"] | undefined;
for (const each of prints.data.results) {
  const alerts = await api.GET("/api/v1/prints/{print_id}/alerts/", { params: { path: { print_id: each.id } } });
  check(alerts.data, `alerts: ${alerts.response.status}`);
  alert ??= alerts.data.results[0];
}
check(alert && alert.snapshot_url, "an alert with a snapshot");
const picture = await api.GET("/api/v1/alerts/{alert_id}/snapshot/", {
  params: { path: { alert_id: alert.id } },
  parseAs: "blob",
});
check(picture.data instanceof Blob, `snapshot: ${picture.response.status}`);
const bytes = new Uint8Array(await picture.data.arrayBuffer());
check(bytes[0] === 0xff && bytes[1] === 0xd8, "the snapshot is a JPEG");
const linked = await fetch(alert.snapshot_url.replace(/^https?:\/\/[^/]+/, baseUrl));
check(linked.status === 200 && linked.headers.get("content-type") === "image/jpeg", "the signed link");

// 6. Finish; then the printer is not printing: predict and finish are 404.
const finished = await api.POST("/api/v1/printers/{printer_id}/finish_print/", { ...onPrinter, body: { status: "success" } });
check(finished.data?.succeeded === true && finished.data.printer.current_print === null, "finished");
const late = await api.POST("/api/v1/printers/{printer_id}/predict/", { ...onPrinter, ...snapshot(jpeg) });
checkError(late.error, late.response, 404, "not_found");
const finishedAgain = await api.POST("/api/v1/printers/{printer_id}/finish_print/", { ...onPrinter, body: {} });
checkError(finishedAgain.error, finishedAgain.response, 404, "not_found");

// 7. A wrong token is a 401 that says so.
const stranger = createClient<paths>({ baseUrl, headers: { Authorization: "Bearer not-a-token" } });
const refused = await stranger.GET("/api/v1/printers/");
checkError(refused.error, refused.response, 401, "invalid_token");

console.log("journey complete");
