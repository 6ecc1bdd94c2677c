//! Draws a Vega spec (a file): `cargo run -p vegalake-render --example svg -- SPEC [OUT.png SCALE]`
//! prints its SVG, or writes a PNG.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("usage: svg SPEC [OUT.png SCALE]");
    let spec = serde_json::from_str(&std::fs::read_to_string(path).expect("read the spec")).expect("JSON");
    let renderer = vegalake_render::Renderer::new(vegalake_render::RenderOptions::default()).expect("renderer");
    let result = match (args.get(1), args.get(2)) {
        (Some(out), Some(scale)) => renderer.png(&spec, scale.parse().expect("scale")).map(|png| std::fs::write(out, png).expect("write")),
        _ => renderer.svg(&spec).map(|svg| println!("{svg}")),
    };
    if let Err(e) = result {
        eprintln!("{path}: {e}");
    }
}
