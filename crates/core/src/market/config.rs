//! The market's configuration (`[market]`) and the mechanism registry.
//!
//! [`MechanismKind`] is both the registry and the configuration of the clearing rule (as
//! tokenizers' `NormalizerWrapper`): `market.mechanism = "kda"` with `market.kda_k = 0.25`
//! becomes `MechanismKind::Kda(Kda { k: 0.25 })` when the `[market]` table is read, and nothing
//! downstream parses a name again. Every name is written once, in the `registry!` table below,
//! which generates the enum, [`MechanismKind::NAMES`], the name lookup and each rule's
//! [`Named`] impl.

use serde::{Deserialize, Serialize};

use super::{Kda, McAfee, Mechanism, OrderBook, Properties, RandomPairing, Sbba, SecondPrice};
use super::{Trade, TradeReduction, Vcg};
use crate::check::{non_negative, positive, positive_count, probability};
use crate::error::{Error, Result};
use crate::rng::ChaCha8Rng;

/// The registry name of a clearing rule (generated for every rule by the `registry!` table).
pub trait Named {
    /// Registry name (`mcafee`, `kda`, …).
    fn name(&self) -> &'static str;
}

/// Declares the registry: one line per rule, `Variant(Type) = "name"`.
macro_rules! registry {
    ($($(#[$doc:meta])* $variant:ident($ty:ty) = $name:literal,)*) => {
        /// Registry of the mechanisms, selected by name (`market.mechanism`), statically
        /// dispatched; each variant carries the rule's parameters.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum MechanismKind {
            $($(#[$doc])* $variant($ty),)*
        }

        impl MechanismKind {
            /// Every registered name, in registry order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The rule called `name` with its default parameters, `None` if unknown.
            fn with_defaults(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(Self::$variant(<$ty>::default())),)*
                    _ => None,
                }
            }
        }

        $(impl Named for $ty {
            fn name(&self) -> &'static str {
                $name
            }
        })*

        impl Named for MechanismKind {
            fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(m) => m.name(),)*
                }
            }
        }

        /// Calls `$body` with `$m` bound to the inner mechanism: static dispatch.
        macro_rules! dispatch {
            ($self_:expr, $m_:ident => $body:expr) => {
                match $self_ {
                    $(MechanismKind::$variant($m_) => $body,)*
                }
            };
        }
    };
}

registry! {
    /// McAfee's trade-reduction double auction (the paper's).
    McAfee(McAfee) = "mcafee",
    /// Always-reduce trade reduction.
    TradeReduction(TradeReduction) = "trade_reduction",
    /// The k-double auction (the paper's "double auction"), k from `market.kda_k`.
    Kda(Kda) = "kda",
    /// The VCG double auction.
    Vcg(Vcg) = "vcg",
    /// SBBA (Segal-Halevi, Hassidim & Aumann 2016).
    Sbba(Sbba) = "sbba",
    /// The second-price auction (the paper's).
    SecondPrice(SecondPrice) = "second_price",
    /// Random pairing (a non-strategic baseline).
    Random(RandomPairing) = "random",
}

impl MechanismKind {
    /// The mechanism called `name`; `kda_k` is the k of `kda` (ignored by the other rules).
    ///
    /// # Errors
    /// [`Error::Config`] for `market.mechanism` listing the known names, or for `market.kda_k`
    /// outside [0, 1].
    pub fn new(name: &str, kda_k: f64) -> Result<Self> {
        probability("market.kda_k", kda_k)?;
        let mut m = Self::with_defaults(name).ok_or_else(|| {
            Error::config(
                "market.mechanism",
                format!(
                    "unknown mechanism `{name}`; expected one of: {}",
                    Self::NAMES.join(", ")
                ),
            )
        })?;
        if let Self::Kda(kda) = &mut m {
            kda.k = kda_k;
        }
        Ok(m)
    }

    /// The registry name.
    pub fn name(&self) -> &'static str {
        Named::name(self)
    }

    /// Every registered mechanism, in [`MechanismKind::NAMES`] order (`kda` with `kda_k`).
    ///
    /// # Errors
    /// As [`MechanismKind::new`].
    pub fn all(kda_k: f64) -> Result<Vec<Self>> {
        Self::NAMES
            .iter()
            .map(|name| Self::new(name, kda_k))
            .collect()
    }

    /// The k of the k-double auction this rule would use (`kda`'s own k, else the default).
    pub fn kda_k(&self) -> f64 {
        match self {
            Self::Kda(kda) => kda.k,
            _ => Kda::default().k,
        }
    }
}

impl Default for MechanismKind {
    /// McAfee (the paper's mechanism).
    fn default() -> Self {
        Self::McAfee(McAfee)
    }
}

impl std::fmt::Display for MechanismKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Mechanism for MechanismKind {
    fn properties(&self) -> Properties {
        dispatch!(self, m => m.properties())
    }
    #[inline]
    fn clear(&self, book: &OrderBook, rng: &mut ChaCha8Rng, trades: &mut Vec<Trade>) {
        dispatch!(self, m => m.clear(book, rng, trades))
    }
}

/// When VM transmit powers are redrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerResample {
    /// Every slot.
    PerSlot,
    /// Once per episode, at reset.
    PerEpisode,
}

/// `[market]` as written in TOML: the rule by name, its parameter `kda_k` beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMarketConfig {
    /// Clearing rule, by registry name. By default, `mcafee`.
    pub mechanism: String,
    /// k of the k-double auction, in [0, 1]. By default, 0.5.
    pub kda_k: f64,
    /// Largest bid. By default, 1.2.
    pub bid_max: f64,
    /// Units a VM can sell per slot (3c). By default, 1.
    pub vm_capacity: usize,
    /// Growth κ of the marginal cost of a VM's k-th unit. By default, 0.1.
    pub marginal_cost_growth: f64,
    /// `per_slot` or `per_episode`. By default, `per_slot`.
    pub vm_power_resample: PowerResample,
}

impl Default for RawMarketConfig {
    fn default() -> Self {
        Self {
            mechanism: "mcafee".into(),
            kda_k: 0.5,
            bid_max: 1.2,
            vm_capacity: 1,
            marginal_cost_growth: 0.1,
            vm_power_resample: PowerResample::PerSlot,
        }
    }
}

/// `[market]`: the local double auctions, validated (see [`RawMarketConfig`] for the TOML form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawMarketConfig", into = "RawMarketConfig")]
pub struct MarketConfig {
    /// The clearing rule and its parameters (`mechanism`, `kda_k`). By default, McAfee.
    pub mechanism: MechanismKind,
    /// Largest bid. By default, 1.2.
    pub bid_max: f64,
    /// Units a VM can sell per slot (3c). By default, 1.
    pub vm_capacity: usize,
    /// Growth κ of the marginal cost of a VM's k-th unit. By default, 0.1.
    pub marginal_cost_growth: f64,
    /// `per_slot` or `per_episode`. By default, `per_slot`.
    pub vm_power_resample: PowerResample,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self::try_from(RawMarketConfig::default()).expect("the default market is valid")
    }
}

impl TryFrom<RawMarketConfig> for MarketConfig {
    type Error = Error;

    /// Builds the mechanism and checks every value against its allowed range.
    fn try_from(raw: RawMarketConfig) -> Result<Self> {
        let mechanism = MechanismKind::new(&raw.mechanism, raw.kda_k)?;
        positive("market.bid_max", raw.bid_max)?;
        positive_count("market.vm_capacity", raw.vm_capacity)?;
        non_negative("market.marginal_cost_growth", raw.marginal_cost_growth)?;
        Ok(Self {
            mechanism,
            bid_max: raw.bid_max,
            vm_capacity: raw.vm_capacity,
            marginal_cost_growth: raw.marginal_cost_growth,
            vm_power_resample: raw.vm_power_resample,
        })
    }
}

impl From<MarketConfig> for RawMarketConfig {
    /// The TOML form; `kda_k` is the rule's k for `kda` and the default for the other rules.
    fn from(m: MarketConfig) -> Self {
        Self {
            mechanism: m.mechanism.name().to_string(),
            kda_k: m.mechanism.kda_k(),
            bid_max: m.bid_max,
            vm_capacity: m.vm_capacity,
            marginal_cost_growth: m.marginal_cost_growth,
            vm_power_resample: m.vm_power_resample,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names_round_trip() {
        for &name in MechanismKind::NAMES {
            assert_eq!(MechanismKind::new(name, 0.5).unwrap().name(), name);
        }
        assert_eq!(MechanismKind::all(0.5).unwrap().len(), 7);
        let e = MechanismKind::new("nope", 0.5).unwrap_err().to_string();
        assert!(e.contains("market.mechanism"), "{e}");
        assert!(e.contains("nope") && e.contains("second_price"), "{e}");
        let e = MechanismKind::new("kda", 1.5).unwrap_err().to_string();
        assert!(e.contains("market.kda_k"), "{e}");
        assert_eq!(
            MechanismKind::new("kda", 0.25).unwrap(),
            MechanismKind::Kda(Kda { k: 0.25 })
        );
    }

    #[test]
    fn market_config_reads_and_writes_the_toml_form() {
        let m: MarketConfig = toml::from_str("mechanism = \"kda\"\nkda_k = 0.25\n").unwrap();
        assert_eq!(m.mechanism, MechanismKind::Kda(Kda { k: 0.25 }));
        let text = toml::to_string(&m).unwrap();
        assert!(
            text.contains("mechanism = \"kda\"") && text.contains("kda_k = 0.25"),
            "{text}"
        );
        let e = toml::from_str::<MarketConfig>("mechanism = \"nope\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("market.mechanism"), "{e}");
        assert!(toml::from_str::<MarketConfig>("foo = 1\n").is_err());
    }
}
