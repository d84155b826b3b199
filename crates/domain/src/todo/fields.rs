//! The value objects of a todo: title, description, status, priority, tags.

use crate::validation::{FieldError, single_line};

/// A todo's title: 1 to 200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoTitle(String);

impl TodoTitle {
    pub const MAX_CHARS: usize = 200;

    /// # Errors
    /// `length` or `format`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        single_line("title", raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stored value. No validation.
    pub fn from_trusted(v: String) -> Self {
        Self(v)
    }
}

/// A description: at most 10 000 characters (line breaks allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 10_000;

    /// # Errors
    /// `length`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                "description",
                "length",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(v: String) -> Self {
        Self(v)
    }
}

/// Where a todo stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    InProgress,
    Done,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Pending, Status::InProgress, Status::Done];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Done => "done",
        }
    }

    /// # Errors
    /// `one_of`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| FieldError::new("status", "one_of", "must be one of: pending, in_progress, done"))
    }
}

/// How urgent a todo is. Ordered by rank: low < medium < high < urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Low, Priority::Medium, Priority::High, Priority::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }

    /// The stored rank, 0 (low) to 3 (urgent); sorting by it sorts by urgency.
    pub fn rank(self) -> i32 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
            Self::Urgent => 3,
        }
    }

    /// The priority of a stored rank.
    pub fn from_rank(rank: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.rank() == rank)
    }

    /// # Errors
    /// `one_of`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == raw)
            .ok_or_else(|| FieldError::new("priority", "one_of", "must be one of: low, medium, high, urgent"))
    }
}

/// A tag: 1 to 32 characters of `a-z`, `0-9` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub const MAX_CHARS: usize = 32;
    /// Most tags on one todo.
    pub const MAX_PER_TODO: usize = 20;
    /// The rule as a regular expression, for API descriptions.
    pub const PATTERN: &str = "^[a-z0-9-]{1,32}$";

    /// # Errors
    /// `format`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok = (1..=Self::MAX_CHARS).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new("tags", "format", "must be 1 to 32 characters of a-z, 0-9 and -"))
        }
    }

    /// Parses a tag list: each tag valid, at most 20, no repeats. Errors name
    /// the offending element (`tags[2]`).
    ///
    /// # Errors
    /// Field errors for `tags` and `tags[i]`.
    pub fn parse_list(raw: &[String]) -> Result<Vec<Self>, Vec<FieldError>> {
        let mut errors = Vec::new();
        if raw.len() > Self::MAX_PER_TODO {
            errors.push(FieldError::new("tags", "length", format!("at most {} tags", Self::MAX_PER_TODO)));
        }
        let mut tags: Vec<Tag> = Vec::with_capacity(raw.len());
        for (i, t) in raw.iter().enumerate() {
            match Self::parse(t) {
                Ok(tag) if tags.contains(&tag) => {
                    errors.push(FieldError::new(format!("tags[{i}]"), "duplicate", format!("`{t}` appears twice")))
                }
                Ok(tag) => tags.push(tag),
                Err(mut e) => {
                    e.field = format!("tags[{i}]");
                    errors.push(e);
                }
            }
        }
        if errors.is_empty() { Ok(tags) } else { Err(errors) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(v: String) -> Self {
        Self(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn priorities_order_by_rank_not_by_name() {
        let mut names = Priority::ALL.map(Priority::as_str);
        names.sort_unstable();
        assert_eq!(names, ["high", "low", "medium", "urgent"], "alphabetical would be wrong");
        assert!(Priority::Low < Priority::Medium && Priority::High < Priority::Urgent);
        for p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), Some(p));
        }
    }

    #[test]
    fn tag_lists_report_each_bad_element() {
        let raw: Vec<String> = ["ok", "Bad", "ok", &"x".repeat(33)].iter().map(|s| (*s).to_owned()).collect();
        let errors = Tag::parse_list(&raw).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["tags[1]", "tags[2]", "tags[3]"]);
        assert!(Tag::parse_list(&vec!["a".to_owned(); 21]).is_err());
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(TodoTitle::parse("  Buy milk ").unwrap().as_str(), "Buy milk");
        assert!(TodoTitle::parse("  ").is_err());
        assert!(TodoTitle::parse(&"é".repeat(201)).is_err());
        assert!(Description::parse(&"x".repeat(10_001)).is_err());
    }

    proptest! {
        #[test]
        fn every_tag_the_documented_pattern_allows_is_accepted(s in Tag::PATTERN.trim_matches(['^', '$'])) {
            prop_assert_eq!(Tag::parse(&s).map(|t| t.0), Ok(s.clone()));
        }

        #[test]
        fn a_parsed_tag_matches_the_documented_pattern(s in "\\PC{0,40}") {
            if let Ok(t) = Tag::parse(&s) {
                let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
                prop_assert!(t.as_str().len() <= 32 && t.as_str().bytes().all(allowed));
            }
        }
    }
}
