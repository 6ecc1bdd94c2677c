//! The renderer against the official tools: its Vega-Lite compiler against
//! vega-lite in Node, its PNGs against vl-convert-python's, its PDFs against its
//! PNGs through poppler's `pdftoppm` (fixtures recorded by `tests/fixtures/record.sh`);
//! and its failures as values that leave the pool working.

use resvg::tiny_skia::Pixmap;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use vegalake_render::{is_vega_lite, RenderError, RenderOptions, Renderer};

fn renderer() -> Renderer {
    Renderer::new(RenderOptions { workers: 2, ..RenderOptions::default() }).expect("renderer (needs Debian's fonts-liberation)")
}

fn fixtures() -> Vec<(String, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut names: Vec<_> =
        std::fs::read_dir(&dir).unwrap().filter_map(|e| e.unwrap().file_name().to_str().and_then(|n| n.strip_suffix(".vl.json")).map(str::to_string)).collect();
    names.sort();
    assert!(names.len() >= 4, "fixtures missing in {}", dir.display());
    names.into_iter().map(|n| (n.clone(), dir.join(n))).collect()
}

fn read_json(path: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn with_ext(base: &Path, ext: &str) -> PathBuf {
    PathBuf::from(format!("{}.{ext}", base.display()))
}

/// Pixels (of all) where some channel differs by more than 16/255; panics when the sizes differ.
fn pixels_off(name: &str, ours: &Pixmap, theirs: &Pixmap) -> (usize, usize) {
    assert_eq!((ours.width(), ours.height()), (theirs.width(), theirs.height()), "{name}: image sizes differ");
    let off = ours.data().chunks(4).zip(theirs.data().chunks(4)).filter(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > 16)).count();
    (off, ours.data().len() / 4)
}

/// Pixels of `ours` with no pixel of `theirs` within `reach` pixels close to it
/// (within 16/255), and all pixels.
fn pixels_off_beyond(name: &str, ours: &Pixmap, theirs: &Pixmap, reach: i64) -> (usize, usize) {
    assert_eq!((ours.width(), ours.height()), (theirs.width(), theirs.height()), "{name}: image sizes differ");
    fn at(p: &Pixmap, x: i64, y: i64) -> &[u8] {
        let i = ((y * i64::from(p.width()) + x) * 4) as usize;
        &p.data()[i..i + 4]
    }
    let close = |a: &[u8], b: &[u8]| a.iter().zip(b).all(|(x, y)| x.abs_diff(*y) <= 16);
    let (w, h) = (i64::from(ours.width()), i64::from(ours.height()));
    let mut off = 0;
    for y in 0..h {
        for x in 0..w {
            let mine = at(ours, x, y);
            let mut near = (-reach..=reach).flat_map(|dy| (-reach..=reach).map(move |dx| (x + dx, y + dy)));
            off += usize::from(!near.any(|(i, j)| i >= 0 && j >= 0 && i < w && j < h && close(mine, at(theirs, i, j))));
        }
    }
    (off, (w * h) as usize)
}

fn assert_same_picture(name: &str, ours: &Pixmap, theirs: &Pixmap) {
    let (off, all) = pixels_off(name, ours, theirs);
    println!("{name}: {off} of {all} pixels off by more than 16/255");
    assert!(off * 200 <= all, "{name}: {off} of {all} pixels differ (more than 0.5%)");
}

#[test]
fn compiles_vega_lite_as_vega_lite_does_in_node() {
    let r = renderer();
    for (name, base) in fixtures() {
        let compiled = r.compile_vega_lite(&read_json(&with_ext(&base, "vl.json"))).unwrap();
        assert_eq!(compiled.spec, read_json(&with_ext(&base, "vg.json")), "{name}: compiled spec differs from Node's");
    }
}

#[test]
fn png_matches_vl_convert() {
    let r = renderer();
    for (name, base) in fixtures() {
        let png = r.png(&read_json(&with_ext(&base, "vg.json")), 1.0).unwrap();
        let theirs = Pixmap::load_png(with_ext(&base, "png")).unwrap();
        assert_same_picture(&name, &Pixmap::decode_png(&png).unwrap(), &theirs);
    }
}

#[test]
fn png_scale_multiplies_the_size() {
    let r = renderer();
    let spec = read_json(&with_ext(&fixtures()[0].1, "vg.json"));
    let one = Pixmap::decode_png(&r.png(&spec, 1.0).unwrap()).unwrap();
    let two = Pixmap::decode_png(&r.png(&spec, 2.0).unwrap()).unwrap();
    assert_eq!((two.width(), two.height()), (one.width() * 2, one.height() * 2));
    assert!(matches!(r.png(&spec, 0.0), Err(RenderError::Output { format: "png", .. })));
}

#[test]
fn pdf_rasterises_to_the_png() {
    let r = renderer();
    let out = tempdir();
    for (name, base) in fixtures() {
        let spec = read_json(&with_ext(&base, "vg.json"));
        let pdf = r.pdf(&spec).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{name}: not a PDF");
        let pdf_path = out.join(format!("{name}.pdf"));
        std::fs::write(&pdf_path, pdf).unwrap();
        // svg2pdf maps one SVG unit to one point (1/72 in). poppler snaps thin
        // rules to its pixel grid and hints glyphs, resvg does neither: at 72 dpi
        // 1.7% of the bar chart's pixels differ by more than 16/255. So both draw
        // at 288 dpi and a pixel matches when one within half a unit (2 pixels)
        // of it does. What is left are glyph outlines' anti-aliasing: 0.70% of the
        // pixels of the text chart, 0.2-0.4% of the others (measured).
        let status = Command::new("pdftoppm").args(["-png", "-r", "288", "-singlefile"]).arg(&pdf_path).arg(out.join(&name)).status();
        assert!(status.expect("pdftoppm (Debian's poppler-utils)").success(), "{name}: pdftoppm failed");
        let raster = Pixmap::load_png(out.join(format!("{name}.png"))).unwrap();
        let png = Pixmap::decode_png(&r.png(&spec, 4.0).unwrap()).unwrap();
        let (off, all) = pixels_off_beyond(&name, &raster, &png, 2);
        println!("{name} (pdf at 4x): {off} of {all} pixels off by more than 16/255 and half a unit");
        assert!(off * 100 <= all, "{name}: the PDF's raster differs from the PNG on {off} of {all} pixels (more than 1%)");
    }
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vegalake-render-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A Vega spec whose data is a sequence of `n` rows drawn as points.
fn points(n: f64) -> Json {
    json!({"width": 100, "height": 100,
        "data": [{"name": "t", "transform": [{"type": "sequence", "start": 0, "stop": n}]}],
        "marks": [{"type": "symbol", "from": {"data": "t"}, "encode": {"enter": {"x": {"field": "data"}}}}]})
}

#[test]
fn failures_are_values_and_the_pool_goes_on() {
    let r = Renderer::new(RenderOptions { workers: 1, memory_bytes: 64 << 20, ..RenderOptions::default() }).unwrap();
    let small = points(10.0);
    assert!(r.svg(&small).unwrap().contains("mark-symbol"));
    // Past the memory limit: an error, and the one worker serves the next chart.
    let e = r.svg(&points(1e8));
    assert!(matches!(e, Err(RenderError::Memory(64))), "expected the memory limit: {e:?}");
    assert!(r.svg(&small).unwrap().contains("mark-symbol"));
    // What vega.js rejects comes back as its message.
    let bad = json!({"data": [{"name": "d", "transform": [{"type": "no-such-transform"}]}]});
    let e = r.svg(&bad).unwrap_err();
    assert!(matches!(e, RenderError::Spec(_)) && e.to_string().contains("no-such-transform"), "{e}");
    // A data URL is not fetched.
    let url = json!({"data": [{"name": "d", "url": "data/cars.json"}], "marks": [{"type": "symbol", "from": {"data": "d"}}]});
    let e = r.svg(&url).unwrap_err();
    assert!(e.to_string().contains("data/cars.json") && e.to_string().contains("not inlined"), "{e}");
    assert!(r.svg(&small).unwrap().contains("mark-symbol"));
}

#[test]
fn a_chart_past_its_time_limit_is_stopped() {
    // A generous memory limit, so the time limit is what stops it.
    let options = RenderOptions { workers: 1, timeout: Duration::from_millis(200), memory_bytes: 8 << 30, ..RenderOptions::default() };
    let r = Renderer::new(options).unwrap();
    assert!(matches!(r.svg(&points(1e9)), Err(RenderError::Timeout(_))));
    assert!(r.svg(&points(3.0)).unwrap().contains("mark-symbol"));
}

#[test]
fn vega_lite_is_told_from_vega_both_ways() {
    for (name, base) in fixtures() {
        assert!(is_vega_lite(&read_json(&with_ext(&base, "vl.json"))), "{name}.vl.json");
        assert!(!is_vega_lite(&read_json(&with_ext(&base, "vg.json"))), "{name}.vg.json");
    }
    assert!(is_vega_lite(&json!({"mark": "bar"})));
    assert!(!is_vega_lite(&json!({"marks": [], "data": []})));
    assert!(!is_vega_lite(&json!({"$schema": "https://vega.github.io/schema/vega/v6.json", "mark": "bar"})));
}
