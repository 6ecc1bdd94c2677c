//! Where a batch writes: one file per chart and format, a journal of finished
//! charts (what `--resume` reads), the manifest, the errors, and a gallery.
//!
//! Every file is written whole or not at all (a temporary file renamed over it),
//! and a chart enters the journal only after its files, so an interrupted run
//! leaves nothing half-written and a resumed one redraws exactly what is missing.

use crate::BatchError;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The journal of finished charts, one JSON line each, in completion order.
pub const JOURNAL: &str = ".vegalake-batch.jsonl";
/// Charts per gallery page.
const GALLERY_PAGE: usize = 100;

/// One chart's outcome: a manifest row.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartRecord {
    pub id: String,
    /// `{key column: value}`.
    pub key: Json,
    /// The error of a chart that failed.
    pub error: Option<String>,
    /// Of the chart's spec, formats, scale and renderer and font versions.
    pub fingerprint: String,
    /// Its files, by name in the output directory.
    pub files: Vec<String>,
    /// The data rows the chart holds, and its key's rows in the source.
    pub rows: usize,
    pub source_rows: u64,
}

impl ChartRecord {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    pub fn to_json(&self) -> Json {
        json!({
            "id": self.id, "key": self.key, "status": if self.ok() { "ok" } else { "failed" },
            "error": self.error, "fingerprint": self.fingerprint, "files": self.files,
            "rows": self.rows, "source_rows": self.source_rows,
        })
    }

    fn from_json(v: &Json) -> Option<Self> {
        Some(ChartRecord {
            id: v["id"].as_str()?.to_string(),
            key: v["key"].clone(),
            error: v["error"].as_str().map(str::to_string),
            fingerprint: v["fingerprint"].as_str()?.to_string(),
            files: v["files"].as_array()?.iter().filter_map(Json::as_str).map(str::to_string).collect(),
            rows: v["rows"].as_u64().unwrap_or(0) as usize,
            source_rows: v["source_rows"].as_u64().unwrap_or(0),
        })
    }
}

/// The output directory of a batch.
pub struct Outputs {
    dir: PathBuf,
    journal: std::fs::File,
    /// Charts a previous run finished (with `--resume`), by id.
    previous: HashMap<String, ChartRecord>,
    records: Vec<ChartRecord>,
}

impl Outputs {
    /// Opens (creates) `dir`; with `resume`, reads what a previous run finished.
    pub fn open(dir: &Path, resume: bool) -> Result<Self, BatchError> {
        std::fs::create_dir_all(dir).map_err(|e| BatchError::io(dir, e))?;
        let path = dir.join(JOURNAL);
        let previous = match resume {
            true => read_journal(&path)?,
            false => HashMap::new(),
        };
        let mut file = std::fs::OpenOptions::new();
        file.create(true);
        if resume {
            file.append(true);
        } else {
            file.write(true).truncate(true);
        }
        let journal = file.open(&path).map_err(|e| BatchError::io(&path, e))?;
        remove_partial_files(dir)?;
        Ok(Outputs { dir: dir.to_path_buf(), journal, previous, records: Vec::new() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A chart a previous run finished with the same fingerprint, its files still there.
    pub fn reusable(&self, id: &str, fingerprint: &str) -> Option<ChartRecord> {
        let r = self.previous.get(id)?;
        (r.ok() && r.fingerprint == fingerprint && r.files.iter().all(|f| self.dir.join(f).is_file())).then(|| r.clone())
    }

    /// Writes a chart's files, then journals it.
    pub fn write(&mut self, mut record: ChartRecord, files: Vec<(&'static str, Vec<u8>)>) -> Result<(), BatchError> {
        for (extension, bytes) in files {
            let name = format!("{}.{extension}", record.id);
            write_atomically(&self.dir.join(&name), &bytes)?;
            record.files.push(name);
        }
        self.finish_chart(record)
    }

    /// Journals a chart without files of its own (failed, or reused from a previous run).
    pub fn finish_chart(&mut self, record: ChartRecord) -> Result<(), BatchError> {
        let line = format!("{}\n", record.to_json());
        let path = self.dir.join(JOURNAL);
        self.journal.write_all(line.as_bytes()).and_then(|_| self.journal.flush()).map_err(|e| BatchError::io(&path, e))?;
        self.records.push(record);
        Ok(())
    }

    pub fn records(&self) -> &[ChartRecord] {
        &self.records
    }

    /// Writes the manifest (`manifest.jsonl`, in chart-id order), the errors
    /// (`errors.jsonl`) and the gallery (`index.html`, then `index-2.html`...).
    pub fn finish(&mut self) -> Result<(), BatchError> {
        self.records.sort_by(|a, b| a.id.cmp(&b.id));
        let lines = |records: &mut dyn Iterator<Item = &ChartRecord>| records.map(|r| format!("{}\n", r.to_json())).collect::<String>();
        write_atomically(&self.dir.join("manifest.jsonl"), lines(&mut self.records.iter()).as_bytes())?;
        write_atomically(&self.dir.join("errors.jsonl"), lines(&mut self.records.iter().filter(|r| !r.ok())).as_bytes())?;
        let pages = self.records.chunks(GALLERY_PAGE).count().max(1);
        for page in 0..pages {
            let records = self.records.chunks(GALLERY_PAGE).nth(page).unwrap_or(&[]);
            write_atomically(&self.dir.join(gallery_page_name(page)), gallery_page(records, page, pages, self.records.len()).as_bytes())?;
        }
        Ok(())
    }
}

fn read_journal(path: &Path) -> Result<HashMap<String, ChartRecord>, BatchError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(BatchError::io(path, e)),
    };
    // A line cut short by an interruption is not a finished chart.
    let records = text.lines().filter_map(|l| serde_json::from_str::<Json>(l).ok()).filter_map(|v| ChartRecord::from_json(&v));
    Ok(records.map(|r| (r.id.clone(), r)).collect())
}

/// Removes the temporary files of a run that was killed while writing one
/// ([`write_atomically`]); they are no chart's (seen after a kill in the resume test).
fn remove_partial_files(dir: &Path) -> Result<(), BatchError> {
    for entry in std::fs::read_dir(dir).map_err(|e| BatchError::io(dir, e))?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".partial") {
            std::fs::remove_file(entry.path()).map_err(|e| BatchError::io(&entry.path(), e))?;
        }
    }
    Ok(())
}

/// Writes a file whole or not at all: a temporary file beside it, renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BatchError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("output");
    let temporary = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let cannot = |e: std::io::Error| BatchError::io(path, format!("cannot write: {e}"));
    std::fs::write(&temporary, bytes).map_err(cannot)?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        cannot(e)
    })
}

fn gallery_page_name(page: usize) -> String {
    if page == 0 {
        "index.html".into()
    } else {
        format!("index-{}.html", page + 1)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// One page of the gallery: each chart's picture (PNG, else SVG) or its error.
fn gallery_page(records: &[ChartRecord], page: usize, pages: usize, total: usize) -> String {
    let mut tiles = String::new();
    for r in records {
        let id = escape(&r.id);
        let picture = r.files.iter().find(|f| f.ends_with(".png")).or_else(|| r.files.iter().find(|f| f.ends_with(".svg")));
        let body = match (&r.error, picture) {
            (Some(e), _) => format!("<pre class=\"error\">{}</pre>", escape(e)),
            (None, Some(file)) => format!("<img src=\"{}\" alt=\"{id}\" loading=\"lazy\">", escape(file)),
            (None, None) => String::new(),
        };
        let links: Vec<String> = r.files.iter().map(|f| format!("<a href=\"{0}\">{0}</a>", escape(f))).collect();
        tiles.push_str(&format!("<figure>{body}<figcaption>{id}<br>{}</figcaption></figure>\n", links.join(" ")));
    }
    let nav: Vec<String> =
        (0..pages).map(|p| if p == page { format!("<b>{}</b>", p + 1) } else { format!("<a href=\"{}\">{}</a>", gallery_page_name(p), p + 1) }).collect();
    let failed = records.iter().filter(|r| !r.ok()).count();
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>vegalake batch: {total} charts</title>\n<style>\
body{{font-family:sans-serif;margin:1em}}main{{display:flex;flex-wrap:wrap;gap:1em}}figure{{margin:0;border:1px solid #ddd;padding:.5em}}\
figcaption{{font-size:12px;color:#444}}img{{max-width:420px;display:block}}.error{{color:#b00;max-width:420px;white-space:pre-wrap}}nav{{margin:1em 0}}\
</style></head>\n<body><h1>{total} charts</h1><p>page {} of {pages}; {failed} failed on this page</p><nav>{}</nav>\n<main>\n{tiles}</main>\n<nav>{}</nav></body></html>\n",
        page + 1,
        nav.join(" "),
        nav.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, error: Option<&str>) -> ChartRecord {
        ChartRecord { id: id.into(), key: json!({"k": id}), error: error.map(str::to_string), fingerprint: "f".into(), files: vec![], rows: 1, source_rows: 2 }
    }

    #[test]
    fn resume_reuses_only_finished_charts_with_their_files() {
        let dir = std::env::temp_dir().join(format!("vegalake-outputs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut out = Outputs::open(&dir, false).unwrap();
        out.write(record("a", None), vec![("svg", b"<svg/>".to_vec())]).unwrap();
        out.write(record("b", None), vec![("svg", b"<svg/>".to_vec())]).unwrap();
        out.finish_chart(record("c", Some("boom"))).unwrap();
        std::fs::remove_file(dir.join("b.svg")).unwrap();
        // An interrupted write leaves half a line: ignored.
        std::fs::OpenOptions::new().append(true).open(dir.join(JOURNAL)).unwrap().write_all(b"{\"id\": \"d\", \"fing").unwrap();
        let again = Outputs::open(&dir, true).unwrap();
        assert!(again.reusable("a", "f").is_some());
        assert!(again.reusable("a", "other").is_none(), "another fingerprint is redrawn");
        assert!(again.reusable("b", "f").is_none(), "a missing file is redrawn");
        assert!(again.reusable("c", "f").is_none(), "a failed chart is retried");
        assert!(again.reusable("d", "f").is_none());
        assert!(Outputs::open(&dir, false).unwrap().reusable("a", "f").is_none(), "without --resume nothing is reused");
    }

    #[test]
    fn the_gallery_pages_and_escapes() {
        let records: Vec<ChartRecord> = (0..150).map(|i| ChartRecord { files: vec![format!("k={i}.png")], ..record(&format!("k={i}"), None) }).collect();
        let page = gallery_page(&records[..100], 0, 2, 150);
        assert_eq!(page.matches("<img").count(), 100);
        assert!(page.contains("<a href=\"index-2.html\">2</a>"));
        let bad = gallery_page(&[record("x", Some("<oops>"))], 0, 1, 1);
        assert!(bad.contains("&lt;oops&gt;") && !bad.contains("<oops>"));
    }
}
