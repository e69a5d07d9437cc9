//! `/upload/`: a multipart form whose files are streamed to disk as they arrive
//! (SPEC "Uploads").
//!
//! Theory of operation. The head of a `POST` decides ([`body_policy`]): not
//! `multipart/form-data` or no valid boundary → refused before the body is read (with
//! `Expect: 100-continue` the client never sends it). Otherwise an [`UploadSink`] takes
//! the body piece by piece: the multipart parser turns it into parts; a file part's
//! data goes straight into a temporary file (memory stays at the connection's buffer
//! whatever the file's size), a text field is kept (up to `--max-body` in all). When
//! the body is complete, committing the files (fsync, unique name, fsync the directory)
//! runs on the blocking pool, and the 201 is sent only once they are durable. A body
//! that fails, is cut off or is too large drops the sink, and with it every temporary
//! file: nothing is left behind.

use crate::app::forms::is_disk_full;
use crate::app::negotiate::{Format, format};
use crate::app::templates::Templates;
use crate::app::view::html;
use crate::app::{App, Body, BodyPolicy, BodySink, Reply, Request, Response};
use crate::http::head::RequestHead;
use crate::http::multipart::{self, MultipartLimits, MultipartParser, PartHeaders};
use crate::http::query::MultiMap;
use crate::store::uploads::{TempUpload, UploadDir, remove_stored};
use serde_json::json;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Most files in one upload: 100, like Django's `DATA_UPLOAD_MAX_NUMBER_FILES`. Past it
/// the upload is refused with 400 (the body's shape is the problem, as for too many
/// parts) before the next temporary file is made. Each file part costs a temporary
/// file made (and, if the upload fails, removed) on the event loop and two fsyncs on
/// the blocking pool: without this bound a body of 1000 one-byte files (the multipart
/// parser's part limit) held the event loop for hundreds of milliseconds.
pub const MAX_UPLOAD_FILES: usize = 100;

/// `GET /upload/`: the form (or, as JSON, what it sends).
pub fn form(app: &App, req: &Request<'_>) -> Response {
    match format(req.header("accept")) {
        Format::Html => html(
            &app.templates,
            200,
            "upload.html",
            &json!({"action": "/upload/", "enctype": "multipart/form-data"}),
        ),
        Format::Json => json_response(
            200,
            &json!({
                "action": "/upload/",
                "method": "POST",
                "enctype": "multipart/form-data",
                "fields": [{"name": "username", "type": "text"},
                           {"name": "headimg", "type": "file", "multiple": true}],
                "max_upload": app.config.max_upload,
            }),
        ),
    }
    .header("Vary", "Accept")
}

fn json_response(status: u16, v: &serde_json::Value) -> Response {
    let mut body = serde_json::to_vec_pretty(v).unwrap_or_default();
    body.push(b'\n');
    Response::new(status, "application/json", Body::Bytes(body))
}

/// How `POST /upload/` takes its body: streamed into an [`UploadSink`], or refused
/// from the head alone.
pub fn body_policy(app: &App, head: &RequestHead<'_>) -> BodyPolicy {
    let boundary =
        match multipart::boundary_from_content_type(head.header("content-type").unwrap_or(b"")) {
            Ok(b) => b,
            Err(e) => {
                // Not multipart at all: 415 Unsupported Media Type; a bad boundary: 400.
                let status = if e.kind == multipart::MultipartErrorKind::NotMultipart {
                    415
                } else {
                    e.status()
                };
                return BodyPolicy::Reject(Response::text_error(status, &e.to_string()));
            }
        };
    let sink = UploadSink {
        parser: MultipartParser::new(&boundary, MultipartLimits::default()),
        carry: Vec::new(),
        dir: Arc::clone(&app.uploads),
        fields: MultiMap::new(),
        field_bytes: 0,
        max_field_bytes: app.config.max_body,
        part: None,
        files: Vec::new(),
        ended: false,
        templates: Arc::clone(&app.templates),
    };
    BodyPolicy::Stream {
        sink: Box::new(sink),
        limit: app.config.max_upload,
    }
}

/// The part being received.
enum Part {
    Field {
        name: String,
        value: Vec<u8>,
    },
    File(FilePart),
    /// A file input left empty (`filename=""`, no data): browsers send it; skipped.
    Skipped,
}

struct FilePart {
    field: String,
    filename: String,
    temp: TempUpload,
}

pub struct UploadSink {
    parser: MultipartParser,
    /// Bytes the parser has not consumed yet (a possible boundary at the end of a
    /// read, or a part header cut in two): small, bounded by the parser's limits.
    carry: Vec<u8>,
    dir: Arc<UploadDir>,
    fields: MultiMap,
    field_bytes: u64,
    max_field_bytes: u64,
    part: Option<Part>,
    files: Vec<FilePart>,
    ended: bool,
    /// For the HTML answer, rendered on the pool thread.
    templates: Arc<Templates>,
}

/// A file could not be written or committed: 507 when the disk is full, else 500.
/// The sink (or `commit`) removes what was written, so nothing of the upload is left.
fn storage_error(e: std::io::Error) -> Response {
    let (status, msg) = if is_disk_full(&e) {
        log::error!("upload: not stored, disk full: {e}; its partial files are removed");
        (507, "the server's disk is full; the upload was not stored")
    } else {
        log::error!("upload: not stored, storage failed: {e}; its partial files are removed");
        (500, "the upload could not be stored")
    };
    let mut r = Response::text_error(status, msg);
    r.head.close = true;
    r
}

impl UploadSink {
    /// Feed `input` to the parser until it needs more; returns how much it consumed.
    fn parse(&mut self, input: &[u8]) -> Result<usize, Response> {
        let mut pos = 0;
        loop {
            let step = self
                .parser
                .feed(&input[pos..])
                .map_err(|e| Response::text_error(e.status(), &e.to_string()))?;
            let start = pos;
            pos += step.consumed;
            match step.event {
                multipart::Event::NeedData => return Ok(pos),
                multipart::Event::PartBegin(h) => self.begin(h)?,
                multipart::Event::PartData(range) => {
                    let data = &input[start + range.start..start + range.end];
                    self.data_of_part(data)?;
                }
                multipart::Event::PartEnd => self.end_part(),
                multipart::Event::End => {
                    self.ended = true;
                    return Ok(pos);
                }
            }
        }
    }

    fn begin(&mut self, h: PartHeaders) -> Result<(), Response> {
        self.part = Some(match h.filename {
            Some(filename) if filename.is_empty() => Part::Skipped,
            Some(_) if self.files.len() >= MAX_UPLOAD_FILES => {
                let mut r = Response::text_error(
                    400,
                    &format!("more than {MAX_UPLOAD_FILES} files in one upload"),
                );
                r.head.close = true;
                return Err(r);
            }
            Some(filename) => Part::File(FilePart {
                field: h.name,
                filename,
                temp: self.dir.temp().map_err(storage_error)?,
            }),
            None => Part::Field {
                name: h.name,
                value: Vec::new(),
            },
        });
        Ok(())
    }

    fn data_of_part(&mut self, data: &[u8]) -> Result<(), Response> {
        match &mut self.part {
            Some(Part::File(f)) => f.temp.write(data).map_err(storage_error),
            Some(Part::Field { value, .. }) => {
                self.field_bytes += data.len() as u64;
                if self.field_bytes > self.max_field_bytes {
                    let mut r = Response::text_error(
                        413,
                        &format!(
                            "the form's text fields are larger than {} bytes",
                            self.max_field_bytes
                        ),
                    );
                    r.head.close = true;
                    return Err(r);
                }
                value.extend_from_slice(data);
                Ok(())
            }
            Some(Part::Skipped) | None => Ok(()),
        }
    }

    fn end_part(&mut self) {
        match self.part.take() {
            Some(Part::File(f)) => self.files.push(f),
            Some(Part::Field { name, value }) => self
                .fields
                .push(name, String::from_utf8_lossy(&value).into_owned()),
            Some(Part::Skipped) | None => {}
        }
    }
}

impl BodySink for UploadSink {
    fn data(&mut self, bytes: &[u8]) -> Result<(), Response> {
        if self.ended {
            return Ok(()); // the epilogue: ignored
        }
        if self.carry.is_empty() {
            let used = self.parse(bytes)?;
            self.carry.extend_from_slice(&bytes[used..]);
        } else {
            let mut carry = std::mem::take(&mut self.carry);
            carry.extend_from_slice(bytes);
            let used = self.parse(&carry)?;
            carry.drain(..used);
            self.carry = carry;
        }
        Ok(())
    }

    fn finish(self: Box<Self>, req: &Request<'_>) -> Reply {
        if let Err(e) = self.parser.finish() {
            return Response::text_error(e.status(), &e.to_string()).into();
        }
        if self.files.is_empty() {
            return Response::text_error(400, "the form has no file: choose one in `headimg`")
                .into();
        }
        let fmt = format(req.header("accept"));
        let UploadSink {
            files,
            fields,
            dir,
            templates,
            ..
        } = *self;
        Reply::Later(Box::new(move || {
            commit(files, fields, &dir, fmt, &templates)
        }))
    }
}

/// Make every file durable under its stored name, then answer 201. Runs on the
/// blocking pool. If one file fails, the ones already stored are removed too.
fn commit(
    files: Vec<FilePart>,
    fields: MultiMap,
    dir: &UploadDir,
    fmt: Format,
    templates: &Templates,
) -> Response {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut stored: Vec<(String, String, String, u64)> = Vec::new();
    for f in files {
        let size = f.temp.size();
        match f.temp.commit(&f.filename, ms) {
            Ok(name) => stored.push((f.field, f.filename, name, size)),
            Err(e) => {
                for (_, _, name, _) in &stored {
                    remove_stored(dir.path(), name);
                }
                return storage_error(e);
            }
        }
    }
    for (_, _, name, size) in &stored {
        log::info!("stored upload {name} ({size} bytes)");
    }
    let mut grouped = serde_json::Map::new();
    for (k, vs) in fields.grouped() {
        grouped.insert(k.to_owned(), json!(vs));
    }
    let files_json: Vec<serde_json::Value> = stored
        .iter()
        .map(|(field, filename, name, size)| {
            json!({"field": field, "filename": filename, "stored": name,
                   "size": size, "url": upload_url(name)})
        })
        .collect();
    let resp = match fmt {
        Format::Json => json_response(201, &json!({"fields": grouped, "files": files_json})),
        Format::Html => html(
            templates,
            201,
            "uploaded.html",
            &json!({"files": files_json}),
        ),
    };
    match stored.first() {
        Some((_, _, name, _)) => resp.header("Location", upload_url(name)),
        None => resp,
    }
}

/// The URL of a stored upload. Stored names keep non-ASCII letters (`café.png`), which
/// a URL (and the `Location` header) must carry percent-encoded.
fn upload_url(name: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'.')
        .remove(b'-')
        .remove(b'_');
    format!(
        "/uploads/{}",
        percent_encoding::utf8_percent_encode(name, KEEP)
    )
}
