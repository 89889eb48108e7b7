//! Which packages of a lock a root reaches, and under which markers: what `uv export` computes.
//!
//! uv.lock (and poetry.lock before Poetry 2) put markers on dependency *edges*, not on packages.
//! A package is installed where some path from a root reaches it with every edge's marker true,
//! so its marker is the union over paths of the conjunction of the edges' markers. Computed once
//! for all targets, it turns the lock into pinned requirements with markers, which each target
//! then evaluates like any other requirement.
//!
//! Extras are nodes of their own: an edge `{ name = "b", extra = ["x"] }` reaches `b` and `b[x]`,
//! and `b[x]` has the edges of b's optional dependencies `x`.

use std::collections::{BTreeMap, HashMap, VecDeque};

use pep508_rs::{ExtraName, MarkerTree};

/// A dependency edge to the package at index `to`.
#[derive(Debug, Clone)]
pub struct Edge {
    pub to: usize,
    pub extras: Vec<ExtraName>,
    pub marker: MarkerTree,
}

/// A package's edges: its own, and those each of its extras adds.
#[derive(Debug, Clone, Default)]
pub struct Node {
    pub dependencies: Vec<Edge>,
    pub optional: BTreeMap<ExtraName, Vec<Edge>>,
}

/// The marker under which each package is reached from `roots` (`false`: never).
pub fn reach(nodes: &[Node], roots: &[Edge]) -> Vec<MarkerTree> {
    let mut markers: HashMap<(usize, Option<ExtraName>), MarkerTree> = HashMap::new();
    let mut queue = VecDeque::new();
    for edge in roots {
        follow(edge, edge.marker.clone(), &mut markers, &mut queue);
    }
    while let Some(key) = queue.pop_front() {
        let here = markers[&key].clone();
        let (package, extra) = &key;
        let edges = match extra {
            None => nodes[*package].dependencies.as_slice(),
            Some(extra) => nodes[*package]
                .optional
                .get(extra)
                .map_or(&[][..], Vec::as_slice),
        };
        for edge in edges {
            let mut marker = here.clone();
            marker.and(edge.marker.clone());
            follow(edge, marker, &mut markers, &mut queue);
        }
    }
    (0..nodes.len())
        .map(|i| {
            markers
                .get(&(i, None))
                .cloned()
                .unwrap_or(MarkerTree::FALSE)
        })
        .collect()
}

/// Widen the marker of the edge's target (and of its extras); queue those that grew.
fn follow(
    edge: &Edge,
    marker: MarkerTree,
    markers: &mut HashMap<(usize, Option<ExtraName>), MarkerTree>,
    queue: &mut VecDeque<(usize, Option<ExtraName>)>,
) {
    if marker.is_false() {
        return;
    }
    let keys = std::iter::once(None).chain(edge.extras.iter().cloned().map(Some));
    for key in keys.map(|extra| (edge.to, extra)) {
        let current = markers.entry(key.clone()).or_insert(MarkerTree::FALSE);
        let mut widened = current.clone();
        widened.or(marker.clone());
        if widened != *current {
            *current = widened;
            queue.push_back(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn edge(to: usize, marker: &str, extras: &[&str]) -> Edge {
        Edge {
            to,
            extras: extras
                .iter()
                .map(|e| ExtraName::from_str(e).unwrap())
                .collect(),
            marker: crate::inputs::text::marker(marker).unwrap(),
        }
    }

    fn text(marker: &MarkerTree) -> String {
        if marker.is_false() {
            return "false".into();
        }
        marker.try_to_string().unwrap_or_else(|| "true".into())
    }

    #[test]
    fn markers_are_conjoined_along_paths_and_joined_across_them() {
        // 0 -> 1 (linux) -> 2 (aarch64); 0 -> 2 (win32); 3 unreachable.
        let nodes = vec![
            Node {
                dependencies: vec![
                    edge(1, "sys_platform == 'linux'", &[]),
                    edge(2, "sys_platform == 'win32'", &[]),
                ],
                ..Node::default()
            },
            Node {
                dependencies: vec![edge(2, "platform_machine == 'aarch64'", &[])],
                ..Node::default()
            },
            Node::default(),
            Node::default(),
        ];
        let reached = reach(&nodes, &[edge(0, "", &[])]);
        assert_eq!(text(&reached[0]), "true");
        assert_eq!(text(&reached[1]), "sys_platform == 'linux'");
        let two = &reached[2];
        let linux_arm =
            MarkerTree::from_str("sys_platform == 'linux' and platform_machine == 'aarch64'")
                .unwrap();
        let win = MarkerTree::from_str("sys_platform == 'win32'").unwrap();
        let mut expected = linux_arm;
        expected.or(win);
        assert_eq!(two, &expected);
        assert_eq!(text(&reached[3]), "false");
    }

    #[test]
    fn extras_add_their_optional_edges_and_cycles_end() {
        let mut optional = BTreeMap::new();
        optional.insert(ExtraName::from_str("x").unwrap(), vec![edge(2, "", &[])]);
        let nodes = vec![
            Node {
                dependencies: vec![edge(1, "", &["x"])],
                ..Node::default()
            },
            Node {
                dependencies: vec![edge(0, "", &[])],
                optional,
            },
            Node::default(),
            Node::default(),
        ];
        let reached = reach(&nodes, &[edge(0, "", &[])]);
        assert!(reached[..3].iter().all(MarkerTree::is_true));
        assert!(reached[3].is_false());
        let without_extra = vec![
            nodes[0].clone(),
            Node {
                optional: BTreeMap::new(),
                ..nodes[1].clone()
            },
            Node::default(),
        ];
        assert!(reach(&without_extra, &[edge(0, "", &[])])[2].is_false());
    }
}
