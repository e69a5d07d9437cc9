//! `/upload/`: a multipart form whose files are streamed to disk as they arrive
//! (SPEC "Uploads").
//!
//! Theory of operation. The head of a `POST` decides ([`body_policy`]): not
//! `multipart/form-data` or no valid boundary → refused before the body is read (with
//! `Expect: 100-continue` the client never sends it). Otherwise an [`UploadSink`] takes
//! the body piece by piece: the multipart parser turns it into parts; a file part's
//! data is kept in memory while the upload's file data stays within
//! [`SPOOL_IN_MEMORY`], and past that goes into a temporary file (so memory stays
//! bounded whatever the file's size), a text field is kept (up to `--max-body` in
//! all). When the body is complete, writing the files kept in memory and committing
//! every file (fsync, unique name, fsync the directory) runs on the blocking pool, and
//! the 201 is sent only once they are durable. A body that fails, is cut off or is too
//! large drops the sink, and with it every temporary file: nothing is left behind.
//!
//! Why memory first: creating and removing a file takes a directory update in the
//! kernel (~150 µs on this project's test machine). Done on the event loop for every
//! file part, a body of 100 tiny files held the loop ~15 ms, and every other client of
//! the worker waited that long. Small files (most uploads of a form, and every part of
//! such a flood) now cost the loop no file-system call at all.

use crate::app::App;
use crate::app::exchange::{Body, BodyPolicy, BodySink, Reply, Request, Response};
use crate::app::forms::is_disk_full;
use crate::app::templates::Templates;
use crate::app::view::html;
use crate::app::view::problem_response;
use crate::http::Problem;
use crate::http::accept::{ErrorFormat, Format, error_format, format};
use crate::http::head::RequestHead;
use crate::http::multipart::{
    self, MultipartLimits, MultipartStream, PartHeaders, Piece, StreamError,
};
use crate::http::query::MultiMap;
use crate::store::uploads::{TempUpload, UploadDir, remove_stored};
use serde_json::json;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// File data of one upload kept in memory before files spill to temporary files on
/// disk: 64 KiB. Bounds the memory of an upload (beside the connection's buffers)
/// whatever it sends; with `--max-connections` 10,000 uploads at once could hold
/// 640 MiB at most, the same order as their read buffers.
pub(crate) const SPOOL_IN_MEMORY: usize = 64 * 1024;

/// `GET /upload/`: the form (or, as JSON, what it sends).
pub(crate) fn form(app: &App, req: &Request<'_>) -> Response {
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
pub(crate) fn body_policy(app: &App, head: &RequestHead<'_>) -> BodyPolicy {
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
                return BodyPolicy::Reject(Box::new(
                    app.problem(&Problem::new(status, e.to_string()), head.header("accept")),
                ));
            }
        };
    let sink = UploadSink {
        stream: MultipartStream::new(&boundary, MultipartLimits::default()),
        received: Received {
            dir: Arc::clone(&app.uploads),
            fields: MultiMap::new(),
            field_bytes: 0,
            max_field_bytes: app.config.max_body,
            part: None,
            files: Vec::new(),
            // Past `--max-upload-files` (default 100, like Django's
            // `DATA_UPLOAD_MAX_NUMBER_FILES`) the upload is refused with 400: the
            // body's shape is the problem, as for too many parts. Each stored file
            // costs a file made, two fsyncs and a link on the blocking pool.
            max_files: app.config.max_upload_files,
            in_memory: 0,
        },
        templates: Arc::clone(&app.templates),
        error_fmt: error_format(head.header("accept")),
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
    data: Spool,
}

/// Where a file part's data is while the body arrives.
enum Spool {
    /// Small so far: in memory, written to disk on the blocking pool at commit.
    Memory(Vec<u8>),
    /// Past [`SPOOL_IN_MEMORY`]: a temporary file, removed on drop unless committed.
    File(TempUpload),
}

pub(crate) struct UploadSink {
    stream: MultipartStream,
    received: Received,
    /// For the HTML answer, rendered on the pool thread.
    templates: Arc<Templates>,
    /// How an error answers, from the request's `Accept`.
    error_fmt: ErrorFormat,
}

/// What of the form has arrived, part by part.
struct Received {
    dir: Arc<UploadDir>,
    fields: MultiMap,
    field_bytes: u64,
    max_field_bytes: u64,
    part: Option<Part>,
    files: Vec<FilePart>,
    /// `--max-upload-files`.
    max_files: usize,
    /// Bytes of file data held in memory ([`Spool::Memory`]), at most
    /// [`SPOOL_IN_MEMORY`].
    in_memory: usize,
}

/// A file could not be written or committed: 507 when the disk is full, else 500.
/// The sink (or `commit`) removes what was written, so nothing of the upload is left.
fn storage_error(e: std::io::Error) -> Problem {
    let (status, msg) = if is_disk_full(&e) {
        log::error!("upload: not stored, disk full: {e}; its partial files are removed");
        (507, "the server's disk is full; the upload was not stored")
    } else {
        log::error!("upload: not stored, storage failed: {e}; its partial files are removed");
        (500, "the upload could not be stored")
    };
    Problem::new(status, msg)
}

impl Received {
    fn begin(&mut self, h: PartHeaders) -> Result<(), Problem> {
        self.part = Some(match h.filename {
            Some(filename) if filename.is_empty() => Part::Skipped,
            Some(_) if self.files.len() >= self.max_files => {
                return Err(Problem::new(
                    400,
                    format!("more than {} files in one upload", self.max_files),
                ));
            }
            Some(filename) => Part::File(FilePart {
                field: h.name,
                filename,
                data: Spool::Memory(Vec::new()),
            }),
            None => Part::Field {
                name: h.name,
                value: Vec::new(),
            },
        });
        Ok(())
    }

    fn data_of_part(&mut self, data: &[u8]) -> Result<(), Problem> {
        match &mut self.part {
            Some(Part::File(f)) => match &mut f.data {
                Spool::File(temp) => temp.write(data).map_err(storage_error),
                Spool::Memory(kept) if self.in_memory + data.len() <= SPOOL_IN_MEMORY => {
                    self.in_memory += data.len();
                    kept.extend_from_slice(data);
                    Ok(())
                }
                Spool::Memory(kept) => {
                    // Too much for memory: this part goes to disk from here on.
                    let mut temp = self.dir.temp().map_err(storage_error)?;
                    temp.write(kept).map_err(storage_error)?;
                    temp.write(data).map_err(storage_error)?;
                    self.in_memory -= kept.len();
                    f.data = Spool::File(temp);
                    Ok(())
                }
            },
            Some(Part::Field { value, .. }) => {
                self.field_bytes += data.len() as u64;
                if self.field_bytes > self.max_field_bytes {
                    return Err(Problem::new(
                        413,
                        format!(
                            "the form's text fields are larger than {} bytes",
                            self.max_field_bytes
                        ),
                    ));
                }
                value.extend_from_slice(data);
                Ok(())
            }
            Some(Part::Skipped) | None => Ok(()),
        }
    }

    fn end_part(&mut self) -> Result<(), Problem> {
        match self.part.take() {
            Some(Part::File(f)) => self.files.push(f),
            Some(Part::Field { name, value }) => self
                .fields
                .push(name, String::from_utf8_lossy(&value).into_owned()),
            Some(Part::Skipped) | None => {}
        }
        Ok(())
    }
}

impl BodySink for UploadSink {
    fn data(&mut self, bytes: &[u8]) -> Result<(), Response> {
        let received = &mut self.received;
        let pushed = self.stream.push(bytes, |piece| match piece {
            Piece::Begin(h) => received.begin(h),
            Piece::Data(data) => received.data_of_part(data),
            Piece::End => received.end_part(),
        });
        let p = match pushed {
            Ok(()) => return Ok(()),
            Err(StreamError::Multipart(e)) => Problem::new(e.status(), e.to_string()),
            Err(StreamError::Handler(p)) => p,
        };
        // The rest of the body is not read: the connection closes after this.
        let mut r = problem_response(&self.templates, &p, self.error_fmt, None);
        r.head.close = true;
        Err(r)
    }

    fn finish(self: Box<Self>, req: &Request<'_>) -> Reply {
        let problem = |p: Problem| -> Reply {
            let fmt = error_format(req.header("accept"));
            problem_response(&self.templates, &p, fmt, None).into()
        };
        if let Err(e) = self.stream.finish() {
            return problem(Problem::new(e.status(), e.to_string()));
        }
        if self.received.files.is_empty() {
            // Say it in the form's words (its label), not by the internal field name.
            return problem(Problem::new(
                400,
                "the form has no file: choose a file to upload in \"Files\"",
            ));
        }
        let fmt = format(req.header("accept"));
        let UploadSink {
            received: Received {
                files, fields, dir, ..
            },
            templates,
            error_fmt,
            ..
        } = *self;
        Reply::Later(Box::new(move || {
            commit(files, fields, &dir, (fmt, error_fmt), &templates)
        }))
    }
}

/// Make every file durable under its stored name, then answer 201. Runs on the
/// blocking pool. If one file fails, the ones already stored are removed too.
fn commit(
    files: Vec<FilePart>,
    fields: MultiMap,
    dir: &UploadDir,
    (fmt, error_fmt): (Format, ErrorFormat),
    templates: &Templates,
) -> Response {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut stored: Vec<(String, String, String, u64)> = Vec::new();
    for f in files {
        let temp = match f.data {
            Spool::File(temp) => Ok(temp),
            Spool::Memory(kept) => dir.temp().and_then(|mut temp| {
                temp.write(&kept)?;
                Ok(temp)
            }),
        };
        let committed = temp.and_then(|temp| {
            let size = temp.size();
            temp.commit(&f.filename, ms).map(|name| (name, size))
        });
        match committed {
            Ok((name, size)) => stored.push((f.field, f.filename, name, size)),
            Err(e) => {
                for (_, _, name, _) in &stored {
                    remove_stored(dir.path(), name);
                }
                let mut r = problem_response(templates, &storage_error(e), error_fmt, None);
                r.head.close = true;
                return r;
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
