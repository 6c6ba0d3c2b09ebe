//! The HTML of the replay page: the template of `assets/replay/` with the style, the script and
//! the recording's JSON inlined.

use super::record::Recording;

const TEMPLATE: &str = include_str!("../../assets/replay/replay.html");
const STYLE: &str = include_str!("../../assets/replay/replay.css");
const SCRIPT: &str = include_str!("../../assets/replay/replay.js");

/// The template's slots, in the order they appear in it.
const SLOTS: [&str; 4] = ["{{title}}", "{{style}}", "{{data}}", "{{script}}"];

/// The complete page for `rec`.
pub fn html(rec: &Recording) -> String {
    let json = serde_json::to_string(rec).expect("a recording serialises");
    // Inside <script>, only "</" can end the element early; "<\/" means the same in JSON.
    let json = json.replace("</", "<\\/");
    let title = escape(&format!("iovmarket replay: {}", rec.title));
    let fills = [title.as_str(), STYLE, json.as_str(), SCRIPT];
    let mut out = String::with_capacity(TEMPLATE.len() + STYLE.len() + SCRIPT.len() + json.len());
    let mut rest = TEMPLATE;
    for (slot, fill) in SLOTS.iter().zip(fills) {
        let at = rest
            .find(slot)
            .expect("the template has every slot, in order");
        out.push_str(&rest[..at]);
        out.push_str(fill);
        rest = &rest[at + slot.len()..];
    }
    out.push_str(rest);
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::render::View;
    use crate::replay::record::{record, Options};
    use iovmarket::agents::TruthfulBidder;
    use iovmarket::env::IovEnv;
    use iovmarket::Scenario;

    #[test]
    fn page_inlines_everything_and_cannot_be_broken_out_of() {
        let mut env = IovEnv::new(Scenario::paper()).unwrap();
        let opts = Options {
            view: View::whole(1000.0),
            max_vehicles: 100,
            slots: 3,
            title: "a </script><b> & c".into(),
            subtitle: "</script>".into(),
        };
        let rec = record(&mut env, &mut TruthfulBidder, 0, &opts, || {}).unwrap();
        let page = html(&rec);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(
            page.contains("<title>iovmarket replay: a &lt;/script&gt;&lt;b&gt; &amp; c</title>")
        );
        assert!(SLOTS.iter().all(|s| !page.contains(s)));
        // One script element for the data and one for the code; the titles cannot close them.
        assert_eq!(page.matches("</script>").count(), 2);
        assert_eq!(page.matches("<script").count(), 2);
        // No external resources of any kind.
        for needle in ["http://", "https://", "@import", "url(", "src="] {
            let hits: Vec<_> = page.match_indices(needle).collect();
            // The SVG namespace URI is an identifier, not a fetch.
            let fetches = hits
                .iter()
                .filter(|(i, _)| !page[*i..].starts_with("http://www.w3.org/2000/svg"))
                .count();
            assert_eq!(fetches, 0, "{needle}");
        }
        let open = r#"id="replay-data">"#;
        let start = page.find(open).unwrap() + open.len();
        let end = start + page[start..].find("</script>").unwrap();
        // JSON reads "<\/" as "</".
        let back: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(back["slots"], 3);
        assert_eq!(back["subtitle"], "</script>");
    }
}
