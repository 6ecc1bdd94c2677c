//! The transforms the client evaluates: registered, so that a dataset is cut at
//! them with the reason and the split knows what rows they may carry.

use super::Rows::{Fields, Whole};
use super::{Evaluation, Partition, Rows, TransformDef};

const fn client(name: &'static str, rows: Rows, why: &'static str) -> TransformDef {
    TransformDef { name, evaluation: Evaluation::Client(why), partition: Partition::No("it is evaluated on the client"), rows }
}

const LAYOUT: &str = "layout transforms are evaluated on the client";
const GEO: &str = "geographic shapes and layouts are evaluated on the client";
const HIERARCHY: &str = "hierarchy transforms are evaluated on the client";
const CROSSFILTER: &str = "crossfilter indexes are evaluated on the client";
const NOT_YET: &str = "not yet lowered";

pub(super) const DEFS: &[TransformDef] = &[
    client("sample", Fields, "random sampling is evaluated on the client"),
    client("crossfilter", Fields, CROSSFILTER),
    client("resolvefilter", Fields, CROSSFILTER),
    client("countpattern", Fields, NOT_YET),
    client("dotbin", Fields, NOT_YET),
    client("force", Whole, LAYOUT),
    client("voronoi", Whole, LAYOUT),
    client("wordcloud", Whole, LAYOUT),
    client("label", Whole, LAYOUT),
    client("linkpath", Whole, LAYOUT),
    client("pie", Whole, LAYOUT),
    client("geopath", Whole, GEO),
    client("geoshape", Whole, GEO),
    client("graticule", Whole, GEO),
    client("contour", Whole, GEO),
    client("isocontour", Whole, GEO),
    client("heatmap", Whole, "image transforms are evaluated on the client"),
    client("kde2d", Whole, "2D density estimation is evaluated on the client"),
    client("nest", Whole, HIERARCHY),
    client("stratify", Whole, HIERARCHY),
    client("treelinks", Whole, HIERARCHY),
    client("pack", Whole, HIERARCHY),
    client("partition", Whole, HIERARCHY),
    client("tree", Whole, HIERARCHY),
    client("treemap", Whole, HIERARCHY),
    client("cross", Whole, "cross products are evaluated on the client"),
];
