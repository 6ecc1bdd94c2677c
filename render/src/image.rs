//! SVG to PNG (resvg) and PDF (svg2pdf), with the fonts text was measured in.

use crate::{Fonts, RenderError};

fn tree(svg: &str, fonts: &Fonts) -> Result<usvg::Tree, RenderError> {
    let options = usvg::Options { fontdb: fonts.database(), font_family: "Liberation Sans".into(), ..usvg::Options::default() };
    usvg::Tree::from_str(svg, &options).map_err(|e| RenderError::Svg(e.to_string()))
}

/// The SVG rasterised at `scale` pixels per SVG unit, as PNG bytes.
pub(crate) fn png(svg: &str, scale: f32, fonts: &Fonts) -> Result<Vec<u8>, RenderError> {
    let fail = |message: String| RenderError::Output { format: "png", message };
    if !(scale.is_finite() && scale > 0.0) {
        return Err(fail(format!("scale {scale} is not a positive number")));
    }
    let tree = tree(svg, fonts)?;
    let size = tree.size().to_int_size().scale_by(scale).ok_or_else(|| fail(format!("scale {scale} gives an empty image")))?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| fail(format!("cannot allocate a {}x{} image", size.width(), size.height())))?;
    resvg::render(&tree, resvg::tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| fail(e.to_string()))
}

/// The SVG as a one-page PDF, text as embedded (subset) fonts.
pub(crate) fn pdf(svg: &str, fonts: &Fonts) -> Result<Vec<u8>, RenderError> {
    let tree = tree(svg, fonts)?;
    svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), svg2pdf::PageOptions::default())
        .map_err(|e| RenderError::Output { format: "pdf", message: e.to_string() })
}
