//! The replay page of `iovmarket replay`: an episode recorded as compact columns ([`record`])
//! and written into one self-contained HTML file ([`page`]) whose script and style live in
//! `crates/cli/assets/replay/`.
//!
//! ## The page's contract (tests rely on it)
//! - `<title>` starts with "iovmarket replay".
//! - After the first frame is drawn, `document.body.dataset.ready === "1"`.
//! - `window.iovReplay` has `slots` (frame count), `slot` (current frame, 0-based: frame t is the
//!   episode's slot t + 1) and `goto(t)`.
//! - The map is the SVG element with id `map`; each drawn vehicle is one `circle.veh` in it, each
//!   trade one `line.trade`; each chart's cursor is a `line.cursor`.
//! - Nothing is fetched: script, style and data are inline, and the page uses system fonts.

pub mod page;
pub mod record;
