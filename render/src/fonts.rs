//! The fonts text is measured and drawn with, chosen explicitly: Liberation Sans,
//! Serif and Mono stand for CSS's generic families, as in vl-convert, so a chart's
//! layout does not depend on what else a machine has installed.

use crate::RenderError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use usvg::fontdb::{Database, Family, Query, Stretch, Style, Weight};

/// Where Debian (`fonts-liberation`) and Fedora (`liberation-fonts`) install them.
const LIBERATION_DIRS: &[&str] = &["/usr/share/fonts/truetype/liberation", "/usr/share/fonts/liberation-sans", "/usr/share/fonts/liberation"];

/// The font database shared by text measurement (vega's layout) and drawing
/// (usvg's text), so the widths vega lays out are the widths drawn.
#[derive(Clone)]
pub struct Fonts {
    db: Arc<Database>,
}

impl Fonts {
    /// Loads the Liberation fonts from `dirs` (those of `VEGALAKE_FONT_DIR`,
    /// colon-separated, when empty) and the system's Liberation directories.
    /// Fails when Liberation Sans is not among them.
    pub fn load(dirs: &[PathBuf]) -> Result<Self, RenderError> {
        let mut db = Database::new();
        let from_env: Vec<PathBuf> = std::env::var_os("VEGALAKE_FONT_DIR").map(|v| std::env::split_paths(&v).collect()).unwrap_or_default();
        let chosen = if dirs.is_empty() { &from_env } else { dirs };
        for dir in chosen.iter().map(PathBuf::as_path).chain(LIBERATION_DIRS.iter().map(Path::new)) {
            db.load_fonts_dir(dir);
        }
        let has = |db: &Database, family: &str| db.faces().any(|f| f.families.iter().any(|(name, _)| name == family));
        if !has(&db, "Liberation Sans") {
            return Err(RenderError::Fonts(
                "Liberation Sans not found (install Debian's fonts-liberation, or point VEGALAKE_FONT_DIR at its .ttf files)".into(),
            ));
        }
        db.set_sans_serif_family("Liberation Sans");
        let serif = if has(&db, "Liberation Serif") { "Liberation Serif" } else { "Liberation Sans" };
        let mono = if has(&db, "Liberation Mono") { "Liberation Mono" } else { "Liberation Sans" };
        db.set_serif_family(serif);
        db.set_monospace_family(mono);
        Ok(Fonts { db: Arc::new(db) })
    }

    /// The faces loaded, each with its version string: what a drawing depends on
    /// besides vega (for fingerprints of outputs).
    pub fn describe(&self) -> String {
        let mut faces: Vec<String> = self
            .db
            .faces()
            .map(|f| {
                let version = self
                    .db
                    .with_face_data(f.id, |data, index| {
                        let face = rustybuzz::ttf_parser::Face::parse(data, index).ok()?;
                        face.names().into_iter().find(|n| n.name_id == rustybuzz::ttf_parser::name_id::VERSION).and_then(|n| n.to_string())
                    })
                    .flatten()
                    .unwrap_or_default();
                format!("{} ({version})", f.post_script_name)
            })
            .collect();
        faces.sort();
        faces.join(", ")
    }

    pub(crate) fn database(&self) -> Arc<Database> {
        self.db.clone()
    }

    /// The advance width in pixels of `text` in a CSS font (a family list, a size
    /// in px, a weight and a style as vega's text marks give them): what a browser
    /// canvas's `measureText` returns, shaped with kerning as usvg draws it.
    pub fn text_width(&self, family: &str, size: f64, weight: &str, style: &str, text: &str) -> f64 {
        let families = families(family);
        let query = Query { families: &families, weight: weight_of(weight), stretch: Stretch::Normal, style: style_of(style) };
        let Some(id) = self.db.query(&query) else { return 0.0 };
        self.db
            .with_face_data(id, |data, index| {
                let face = rustybuzz::Face::from_slice(data, index)?;
                let mut buffer = rustybuzz::UnicodeBuffer::new();
                buffer.push_str(text);
                let shaped = rustybuzz::shape(&face, &[], buffer);
                let units: i64 = shaped.glyph_positions().iter().map(|p| i64::from(p.x_advance)).sum();
                Some(units as f64 * size / f64::from(face.units_per_em()))
            })
            .flatten()
            .unwrap_or(0.0)
    }
}

/// A CSS family list, with sans-serif last so every query finds a face.
fn families(list: &str) -> Vec<Family<'_>> {
    let mut out: Vec<Family<'_>> = list
        .split(',')
        .map(|name| name.trim().trim_matches(|c| c == '"' || c == '\''))
        .filter(|name| !name.is_empty())
        .map(|name| match name {
            "sans-serif" | "system-ui" => Family::SansSerif,
            "serif" => Family::Serif,
            "monospace" => Family::Monospace,
            "cursive" => Family::Cursive,
            "fantasy" => Family::Fantasy,
            name => Family::Name(name),
        })
        .collect();
    out.push(Family::SansSerif);
    out
}

fn weight_of(css: &str) -> Weight {
    match css.trim() {
        "bold" | "bolder" => Weight::BOLD,
        "lighter" => Weight::LIGHT,
        w => w.parse::<u16>().map(Weight).unwrap_or(Weight::NORMAL),
    }
}

fn style_of(css: &str) -> Style {
    match css.trim() {
        "italic" => Style::Italic,
        "oblique" => Style::Oblique,
        _ => Style::Normal,
    }
}
