//! The 17 operator scopes a query plan is split into, and the 7 categories that group them.
//! This table is the single source of truth for ids, names and categories.

use core::fmt;
use core::str::FromStr;

use crate::error::{LearningError, Result};

/// A group of operator scopes that share a category adapter (transfer between similar operators).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum OperatorCategory {
    Scan = 0,
    Join = 1,
    Aggregation = 2,
    Transform = 3,
    Order = 4,
    Vector = 5,
    Utility = 6,
}

impl OperatorCategory {
    /// Number of categories.
    pub const COUNT: usize = 7;

    /// All categories in id order.
    pub const ALL: [OperatorCategory; Self::COUNT] = [
        Self::Scan,
        Self::Join,
        Self::Aggregation,
        Self::Transform,
        Self::Order,
        Self::Vector,
        Self::Utility,
    ];

    /// The category's id, `0..7`.
    pub const fn id(self) -> usize {
        self as usize
    }

    /// The category's name, e.g. `"Scan"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Scan => "Scan",
            Self::Join => "Join",
            Self::Aggregation => "Aggregation",
            Self::Transform => "Transform",
            Self::Order => "Order",
            Self::Vector => "Vector",
            Self::Utility => "Utility",
        }
    }
}

impl fmt::Display for OperatorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OperatorCategory {
    type Err = LearningError;

    /// Parses a category name, ignoring ASCII case.
    fn from_str(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|category| category.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| LearningError::UnknownCategoryName(name.into()))
    }
}

/// One of the 17 kinds of query operator that get an adapter of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum OperatorScope {
    SeqScan = 0,
    IndexScan = 1,
    HnswScan = 2,
    IvfFlatScan = 3,
    NestedLoopJoin = 4,
    HashJoin = 5,
    MergeJoin = 6,
    Aggregate = 7,
    GroupBy = 8,
    Filter = 9,
    Project = 10,
    Sort = 11,
    Limit = 12,
    VectorDistance = 13,
    Rerank = 14,
    Materialize = 15,
    Result = 16,
}

impl OperatorScope {
    /// Number of scopes.
    pub const COUNT: usize = 17;

    /// All scopes in id order.
    pub const ALL: [OperatorScope; Self::COUNT] = [
        Self::SeqScan,
        Self::IndexScan,
        Self::HnswScan,
        Self::IvfFlatScan,
        Self::NestedLoopJoin,
        Self::HashJoin,
        Self::MergeJoin,
        Self::Aggregate,
        Self::GroupBy,
        Self::Filter,
        Self::Project,
        Self::Sort,
        Self::Limit,
        Self::VectorDistance,
        Self::Rerank,
        Self::Materialize,
        Self::Result,
    ];

    /// The scope's id, `0..17`.
    pub const fn id(self) -> usize {
        self as usize
    }

    /// The scope for an id in `0..17`.
    pub fn from_id(id: usize) -> Result<Self> {
        Self::ALL.get(id).copied().ok_or(LearningError::ScopeIdOutOfRange(id as f64))
    }

    /// The scope for a JavaScript or SQL number, which must be an integer in `0..17`.
    #[inline]
    pub fn from_number(id: f64) -> Result<Self> {
        if crate::arguments::is_integer_in(id, 0.0, (Self::COUNT - 1) as f64) {
            Ok(Self::ALL[id as usize])
        } else {
            Err(LearningError::ScopeIdOutOfRange(id))
        }
    }

    /// The scope's name, e.g. `"HnswScan"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::SeqScan => "SeqScan",
            Self::IndexScan => "IndexScan",
            Self::HnswScan => "HnswScan",
            Self::IvfFlatScan => "IvfFlatScan",
            Self::NestedLoopJoin => "NestedLoopJoin",
            Self::HashJoin => "HashJoin",
            Self::MergeJoin => "MergeJoin",
            Self::Aggregate => "Aggregate",
            Self::GroupBy => "GroupBy",
            Self::Filter => "Filter",
            Self::Project => "Project",
            Self::Sort => "Sort",
            Self::Limit => "Limit",
            Self::VectorDistance => "VectorDistance",
            Self::Rerank => "Rerank",
            Self::Materialize => "Materialize",
            Self::Result => "Result",
        }
    }

    /// The category whose adapter this scope falls back on.
    pub const fn category(self) -> OperatorCategory {
        use OperatorCategory as C;
        match self {
            Self::SeqScan | Self::IndexScan | Self::HnswScan | Self::IvfFlatScan => C::Scan,
            Self::NestedLoopJoin | Self::HashJoin | Self::MergeJoin => C::Join,
            Self::Aggregate | Self::GroupBy => C::Aggregation,
            Self::Filter | Self::Project => C::Transform,
            Self::Sort | Self::Limit => C::Order,
            Self::VectorDistance | Self::Rerank => C::Vector,
            Self::Materialize | Self::Result => C::Utility,
        }
    }
}

impl fmt::Display for OperatorScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OperatorScope {
    type Err = LearningError;

    /// Parses a scope name (ignoring ASCII case) or a decimal id.
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        if let Ok(id) = text.parse::<usize>() {
            return Self::from_id(id);
        }
        Self::ALL
            .into_iter()
            .find(|scope| scope.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| LearningError::UnknownScopeName(text.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_names_and_categories_follow_the_published_table() {
        let table = [
            (0, "SeqScan", "Scan"),
            (1, "IndexScan", "Scan"),
            (2, "HnswScan", "Scan"),
            (3, "IvfFlatScan", "Scan"),
            (4, "NestedLoopJoin", "Join"),
            (5, "HashJoin", "Join"),
            (6, "MergeJoin", "Join"),
            (7, "Aggregate", "Aggregation"),
            (8, "GroupBy", "Aggregation"),
            (9, "Filter", "Transform"),
            (10, "Project", "Transform"),
            (11, "Sort", "Order"),
            (12, "Limit", "Order"),
            (13, "VectorDistance", "Vector"),
            (14, "Rerank", "Vector"),
            (15, "Materialize", "Utility"),
            (16, "Result", "Utility"),
        ];
        for (id, name, category) in table {
            let scope = OperatorScope::from_id(id).unwrap();
            assert_eq!((scope.id(), scope.name(), scope.category().name()), (id, name, category));
        }
    }

    #[test]
    fn names_parse_case_insensitively_and_ids_parse_as_numbers() {
        assert_eq!("hashjoin".parse::<OperatorScope>(), Ok(OperatorScope::HashJoin));
        assert_eq!(" SEQSCAN ".parse::<OperatorScope>(), Ok(OperatorScope::SeqScan));
        assert_eq!("16".parse::<OperatorScope>(), Ok(OperatorScope::Result));
        assert_eq!("vector".parse::<OperatorCategory>(), Ok(OperatorCategory::Vector));
    }

    #[test]
    fn anything_else_is_an_error() {
        assert!(OperatorScope::from_id(17).is_err());
        assert!("17".parse::<OperatorScope>().is_err());
        assert!("HashJoins".parse::<OperatorScope>().is_err());
        assert!("".parse::<OperatorScope>().is_err());
        assert!("Scans".parse::<OperatorCategory>().is_err());
        for bad in [-1.0, 17.0, 2.5, f64::NAN, f64::INFINITY] {
            assert!(OperatorScope::from_number(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(OperatorScope::from_number(2.0), Ok(OperatorScope::HnswScan));
    }
}
