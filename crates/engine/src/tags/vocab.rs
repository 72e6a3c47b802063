//! The tag vocabulary: built-in concepts (`assets/tags/vocabulary.txt`), the
//! prompt templates (`assets/tags/templates.txt`) and the user's custom tags,
//! as one hierarchy.
//!
//! A tag's key is its display name in lower case with whitespace collapsed
//! ("City street" → `city street`); that key is what `photo_tags.tag` holds
//! and what `tag:` search matches.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

const BUILTIN_VOCABULARY: &str = include_str!("../../../../assets/tags/vocabulary.txt");
const BUILTIN_TEMPLATES: &str = include_str!("../../../../assets/tags/templates.txt");

/// One concept of the hierarchy.
#[derive(Debug, Clone, Serialize)]
pub struct Concept {
    /// The key stored with photos (lower-case name).
    pub tag: String,
    /// Display name, as written in the vocabulary or by the user.
    pub name: String,
    /// Keys of the parents.
    pub parents: Vec<String>,
    pub synonyms: Vec<String>,
    /// What the thing looks like in a photo; each is a prompt.
    pub descriptions: Vec<String>,
    /// A grouping node: a parent, never assigned to a photo.
    pub group: bool,
    /// Created by the user (`tags custom add`), not built in.
    pub custom: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Template {
    pub weight: f32,
    /// Contains `{}` where the concept name goes.
    pub text: String,
}

/// A user's custom tag as the catalog stores it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomTag {
    pub tag: String,
    pub name: String,
    /// What it looks like; the name is used when there is none.
    pub description: Option<String>,
    pub parent: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Vocabulary {
    concepts: Vec<Concept>,
    by_tag: HashMap<String, usize>,
    by_synonym: HashMap<String, usize>,
    templates: Vec<Template>,
}

/// The key of a tag name: trimmed, lower case, whitespace collapsed; `|`,
/// `/` and `,` (hierarchy and list separators in XMP tools) become spaces.
pub fn tag_key(name: &str) -> String {
    name.trim_start_matches('*')
        .chars()
        .map(|c| if matches!(c, '|' | '/' | ',') { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn split_list(s: &str, sep: char) -> Vec<String> {
    s.split(sep)
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses the vocabulary and template files. Errors name the line.
pub fn parse(vocabulary: &str, templates: &str) -> Result<Vocabulary, String> {
    let mut concepts = Vec::new();
    for (n, line) in vocabulary.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('|').collect();
        if fields.len() != 3 {
            return Err(format!(
                "vocabulary line {}: expected `Name < Parents | synonyms | descriptions`",
                n + 1
            ));
        }
        let (head, parents) = match fields[0].split_once('<') {
            Some((h, p)) => (h.trim(), split_list(p, ',')),
            None => (fields[0].trim(), Vec::new()),
        };
        let group = head.starts_with('*');
        let name = head.trim_start_matches('*').trim().to_string();
        let descriptions = split_list(fields[2], ';');
        if name.is_empty() || descriptions.is_empty() {
            return Err(format!(
                "vocabulary line {}: a concept needs a name and at least one description",
                n + 1
            ));
        }
        concepts.push(Concept {
            tag: tag_key(&name),
            name,
            parents: parents.iter().map(|p| tag_key(p)).collect(),
            synonyms: split_list(fields[1], ','),
            descriptions,
            group,
            custom: false,
        });
    }
    let mut parsed_templates = Vec::new();
    for (n, line) in templates.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (weight, text) = line
            .split_once('|')
            .ok_or_else(|| format!("templates line {}: expected `weight | template`", n + 1))?;
        let weight: f32 = weight
            .trim()
            .parse()
            .map_err(|_| format!("templates line {}: bad weight", n + 1))?;
        let text = text.trim().to_string();
        if !text.contains("{}") || weight <= 0.0 {
            return Err(format!(
                "templates line {}: a template needs `{{}}` and a positive weight",
                n + 1
            ));
        }
        parsed_templates.push(Template { weight, text });
    }
    if parsed_templates.is_empty() {
        return Err("no prompt templates".into());
    }
    Vocabulary::build(concepts, parsed_templates)
}

/// The vocabulary compiled into Shoebox.
pub fn builtin() -> &'static Vocabulary {
    static VOCAB: OnceLock<Vocabulary> = OnceLock::new();
    VOCAB.get_or_init(|| {
        parse(BUILTIN_VOCABULARY, BUILTIN_TEMPLATES).expect("the built-in vocabulary is valid")
    })
}

impl Vocabulary {
    /// Checks that keys are unique, parents exist and there is no cycle.
    pub fn build(concepts: Vec<Concept>, templates: Vec<Template>) -> Result<Self, String> {
        let mut by_tag = HashMap::new();
        for (i, c) in concepts.iter().enumerate() {
            if by_tag.insert(c.tag.clone(), i).is_some() {
                return Err(format!("concept `{}` is defined twice", c.name));
            }
        }
        for c in &concepts {
            for p in &c.parents {
                if !by_tag.contains_key(p) {
                    return Err(format!("concept `{}` has an unknown parent `{p}`", c.name));
                }
            }
        }
        let mut by_synonym = HashMap::new();
        for (i, c) in concepts.iter().enumerate() {
            for s in &c.synonyms {
                let key = tag_key(s);
                if !by_tag.contains_key(&key) {
                    by_synonym.entry(key).or_insert(i);
                }
            }
        }
        let vocab = Vocabulary {
            concepts,
            by_tag,
            by_synonym,
            templates,
        };
        for i in 0..vocab.concepts.len() {
            // ancestors() stops at repeats; a concept among its own
            // ancestors is a cycle.
            if vocab.ancestors(i).contains(&i) {
                return Err(format!(
                    "concept `{}` is its own ancestor",
                    vocab.concepts[i].name
                ));
            }
        }
        Ok(vocab)
    }

    /// This vocabulary plus the user's custom tags. A custom tag whose key
    /// is a built-in concept is skipped (the concept already exists); an
    /// unknown parent is dropped.
    pub fn with_custom(&self, custom: &[CustomTag]) -> Vocabulary {
        let mut concepts = self.concepts.clone();
        for c in custom {
            if self.by_tag.contains_key(&c.tag) {
                continue;
            }
            let parents = c
                .parent
                .as_deref()
                .map(tag_key)
                .filter(|p| self.by_tag.contains_key(p))
                .into_iter()
                .collect();
            concepts.push(Concept {
                tag: c.tag.clone(),
                name: c.name.clone(),
                parents,
                synonyms: Vec::new(),
                descriptions: vec![c.description.clone().unwrap_or_else(|| c.name.clone())],
                group: false,
                custom: true,
            });
        }
        Vocabulary::build(concepts, self.templates.clone())
            .expect("custom tags keep the vocabulary valid")
    }

    pub fn concepts(&self) -> &[Concept] {
        &self.concepts
    }

    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    pub fn len(&self) -> usize {
        self.concepts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }

    pub fn index(&self, tag: &str) -> Option<usize> {
        self.by_tag.get(tag).copied()
    }

    pub fn get(&self, tag: &str) -> Option<&Concept> {
        self.index(tag).map(|i| &self.concepts[i])
    }

    /// The concept a typed or imported name means: by key, then by synonym.
    pub fn lookup(&self, name: &str) -> Option<&Concept> {
        let key = tag_key(name);
        self.by_tag
            .get(&key)
            .or_else(|| self.by_synonym.get(&key))
            .map(|&i| &self.concepts[i])
    }

    /// Indices of the concepts that can be assigned (not groups).
    pub fn taggable(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.concepts.len()).filter(|&i| !self.concepts[i].group)
    }

    /// Parent indices of concept `i`.
    pub fn parents_of(&self, i: usize) -> Vec<usize> {
        self.concepts[i]
            .parents
            .iter()
            .filter_map(|p| self.index(p))
            .collect()
    }

    /// Every ancestor of concept `i` (parents, their parents, ...), each once.
    pub fn ancestors(&self, i: usize) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let mut stack = self.parents_of(i);
        while let Some(p) = stack.pop() {
            if out.contains(&p) {
                continue;
            }
            out.push(p);
            stack.extend(self.parents_of(p));
        }
        out
    }

    /// The display path from a root down to concept `i` through first
    /// parents, e.g. `Animals|Pet|Dog` (for `lr:hierarchicalSubject`).
    pub fn path(&self, i: usize) -> Vec<String> {
        let mut path = vec![self.concepts[i].name.clone()];
        let mut at = i;
        while let Some(&p) = self.parents_of(at).first() {
            if path.len() > 32 {
                break;
            }
            path.push(self.concepts[p].name.clone());
            at = p;
        }
        path.reverse();
        path
    }

    /// The prompts for concept `i`, each with its weight: every template
    /// applied to the name, the first template applied to each synonym,
    /// and each visual description (as "a photo of NAME: DESCRIPTION.").
    pub fn prompts(&self, i: usize) -> Vec<(String, f32)> {
        let c = &self.concepts[i];
        let name = c.name.to_lowercase();
        let mut out: Vec<(String, f32)> = self
            .templates
            .iter()
            .map(|t| (t.text.replace("{}", &name), t.weight))
            .collect();
        let first = &self.templates[0];
        for s in &c.synonyms {
            out.push((first.text.replace("{}", s), first.weight));
        }
        for d in &c.descriptions {
            let d = d.trim_end_matches('.');
            if c.custom && tag_key(d) == c.tag {
                continue; // a custom tag described by its own name
            }
            out.push((format!("a photo of {name}: {d}."), 1.0));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_with_enough_concepts() {
        let v = builtin();
        let taggable = v.taggable().count();
        assert!(taggable >= 500, "{taggable} taggable concepts");
        assert!(v.templates().len() >= 6);
        let dog = v.index("dog").unwrap();
        let names: Vec<&str> = v
            .ancestors(dog)
            .iter()
            .map(|&a| v.concepts()[a].tag.as_str())
            .collect();
        assert!(names.contains(&"pet") && names.contains(&"animals"));
        assert_eq!(v.lookup("Seaside").unwrap().tag, "beach");
        assert_eq!(v.path(dog), ["Animals", "Dog"]);
    }

    #[test]
    fn keys_are_lower_case_names() {
        assert_eq!(tag_key("  City   Street "), "city street");
        assert_eq!(tag_key("Places|Paris"), "places paris");
    }

    #[test]
    fn bad_files_are_reported() {
        assert!(parse("A < B | | x", "1 | a {}")
            .unwrap_err()
            .contains("unknown parent"));
        assert!(parse("A < B | | x\nB < A | | y", "1 | a {}")
            .unwrap_err()
            .contains("ancestor"));
        assert!(parse("A | | x", "1 | no placeholder").is_err());
        assert!(parse("A | x", "1 | a {}").unwrap_err().contains("line 1"));
    }
}
