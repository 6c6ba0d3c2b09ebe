//! `iovmarket clear`: clears one market read as JSON and prints the outcome as JSON.
//!
//! Input (stdin, or `--input FILE`): `{"bids": [..], "asks": [..]}`, prices finite and ≥ 0.
//! Output (stdout, one line):
//! `{"mechanism": .., "trades": [{"buyer": i, "seller": j, "buyer_pays": p, "seller_gets": q}, ..],
//! "budget": β}`, indices into the input arrays, trades in the order the rule made them.
//!
//! Bad input (malformed JSON, a missing or unknown field, a non-number, NaN, an infinity, a
//! negative price) is a user error naming the field and index: exit code 2, nothing on stdout.
//! JSON has no NaN or Infinity, but many tools write them; so do numbers too large for an f64.
//! Such tokens are recognised and reported by position instead of as a bare syntax error.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use iovmarket::market::{budget, clear_prices, market_stream, Kda, MechanismKind};
use serde::Serialize;
use serde_json::Value;

/// Flags of `clear`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Clearing rule: mcafee, trade_reduction, kda, vcg, sbba, second_price or random.
    #[arg(long)]
    pub mechanism: String,
    /// Seed of the market stream (tie-breaking between equal prices, randomised rules).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// JSON file `{"bids": [..], "asks": [..]}`; stdin when omitted or `-`.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// k of the k-double auction, in [0, 1] (`market.kda_k`).
    #[arg(long, default_value_t = Kda::default().k)]
    pub kda_k: f64,
}

#[derive(Serialize)]
struct TradeOut {
    buyer: u32,
    seller: u32,
    buyer_pays: f64,
    seller_gets: f64,
}

#[derive(Serialize)]
struct Outcome<'a> {
    mechanism: &'a str,
    trades: Vec<TradeOut>,
    budget: f64,
}

/// Runs `clear`.
pub fn run(args: Args) -> Result<ExitCode> {
    let mechanism = MechanismKind::new(&args.mechanism, args.kda_k).context("--mechanism")?;
    let text = match args.input.as_deref() {
        Some(path) if path.as_os_str() != "-" => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        _ => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read the market from stdin")?;
            s
        }
    };
    let (bids, asks) = parse_market(&text)?;
    let mut rng = market_stream(args.seed);
    let trades = clear_prices(&mechanism, &bids, &asks, &mut rng)?;
    let out = Outcome {
        mechanism: mechanism.name(),
        budget: budget(&trades),
        trades: trades
            .iter()
            .map(|t| TradeOut {
                buyer: t.buyer,
                seller: t.seller,
                buyer_pays: t.buyer_pays,
                seller_gets: t.seller_gets,
            })
            .collect(),
    };
    crate::stdout::println(&serde_json::to_string(&out)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Prefix of the strings that stand in for non-finite number tokens (see [`mark_non_finite`]).
const MARK: char = '\u{1}';

/// Parses `{"bids": [..], "asks": [..]}` into the two price lists, naming the field and index of
/// anything wrong. Negative and non-finite values are left to the core's validation, which names
/// them the same way (`bids[1] = -2: must be >= 0`).
fn parse_market(text: &str) -> Result<(Vec<f64>, Vec<f64>)> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(strict) => match mark_non_finite(text).and_then(|t| serde_json::from_str(&t).ok()) {
            Some(v) => v,
            None => bail!("malformed JSON input: {strict}"),
        },
    };
    let Value::Object(map) = value else {
        bail!(
            "expected a JSON object {{\"bids\": [...], \"asks\": [...]}}, got {}",
            kind(&value)
        );
    };
    if let Some(key) = map.keys().find(|k| *k != "bids" && *k != "asks") {
        bail!("unknown field `{key}`; expected only `bids` and `asks`");
    }
    let side = |name: &str| -> Result<Vec<f64>> {
        let Some(v) = map.get(name) else {
            bail!("missing field `{name}` (an array of prices, possibly empty)");
        };
        let Value::Array(items) = v else {
            bail!("`{name}`: expected an array of numbers, got {}", kind(v));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Number(n) => n
                    .as_f64()
                    .with_context(|| format!("{name}[{i}] = {n}: not representable as a number")),
                Value::String(s) if s.starts_with(MARK) => bail!(
                    "{name}[{i}] = {}: must be a finite number",
                    &s[MARK.len_utf8()..]
                ),
                other => bail!("{name}[{i}]: expected a number, got {}", kind(other)),
            })
            .collect()
    };
    Ok((side("bids")?, side("asks")?))
}

/// A short description of a JSON value for error messages.
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// `text` with every bare token outside strings that denotes a non-finite number (`NaN`,
/// `Infinity`, `-Infinity`, `inf`, any case, or a numeral too large for an f64 such as `1e999`)
/// replaced by a string holding [`MARK`] and the token, or `None` if there is none.
fn mark_non_finite(text: &str) -> Option<String> {
    let token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.');
    let mut out = String::with_capacity(text.len() + 16);
    let mut changed = false;
    let mut chars = text.char_indices().peekable();
    let (mut in_string, mut escaped) = (false, false);
    while let Some((start, c)) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if c == '"' {
            in_string = true;
            out.push(c);
            continue;
        }
        if !token_char(c) {
            out.push(c);
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, d)) = chars.peek() {
            if !token_char(d) {
                break;
            }
            end = i + d.len_utf8();
            chars.next();
        }
        let token = &text[start..end];
        let bare = token.trim_start_matches(['+', '-']).to_ascii_lowercase();
        let non_finite = matches!(bare.as_str(), "nan" | "inf" | "infinity")
            || (token.starts_with(|c: char| c == '-' || c.is_ascii_digit())
                && token.parse::<f64>().is_ok_and(|x| x.is_infinite()));
        if non_finite {
            out.push_str(&format!("\"\\u0001{token}\""));
            changed = true;
        } else {
            out.push_str(token);
        }
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        format!("{:#}", parse_market(text).unwrap_err())
    }

    #[test]
    fn parses_numbers_and_empty_sides() {
        let (b, a) = parse_market(r#"{"bids": [1, 2.5, 0], "asks": []}"#).unwrap();
        assert_eq!((b, a), (vec![1.0, 2.5, 0.0], vec![]));
    }

    #[test]
    fn names_the_problem() {
        for (text, want) in [
            (r#"{"bids": [1, NaN], "asks": []}"#, "bids[1] = NaN"),
            (
                r#"{"bids": [], "asks": [-Infinity]}"#,
                "asks[0] = -Infinity",
            ),
            (r#"{"bids": [1e999], "asks": []}"#, "bids[0] = 1e999"),
            (
                r#"{"bids": [1, "2"], "asks": []}"#,
                "bids[1]: expected a number, got the string \"2\"",
            ),
            (
                r#"{"bids": [null], "asks": []}"#,
                "bids[0]: expected a number, got null",
            ),
            (r#"{"bids": [1]}"#, "missing field `asks`"),
            (r#"{"bids": [], "asks": [], "k": 1}"#, "unknown field `k`"),
            (r#"{"bids": 3, "asks": []}"#, "`bids`: expected an array"),
            (r#"[1, 2]"#, "expected a JSON object"),
            (r#"{"bids": [1,], "asks": []}"#, "malformed JSON input"),
            ("", "malformed JSON input"),
        ] {
            let e = err(text);
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn marking_leaves_strings_and_ordinary_numbers_alone() {
        assert_eq!(mark_non_finite(r#"{"a": "NaN", "b": [1e5, -2]}"#), None);
        assert_eq!(
            mark_non_finite(r#"{"a\"NaN": [NaN, 1E400]}"#).unwrap(),
            r#"{"a\"NaN": ["\u0001NaN", "\u00011E400"]}"#
        );
    }
}
