"""Run VIGINUM's D3lta on files written by :mod:`beffroi.analysis.coordination_compare`.

Runs in D3lta's own virtual environment (``/tmp/d3lta/bin/python d3lta_runner.py DIR``):
it imports only the standard library, numpy, pandas and ``d3lta``, never Beffroi. It reads,
from ``DIR``:

- ``posts.jsonl``: one ``{"id", "text", "language"}`` object a line;
- ``embeddings.npy``: ``float32`` array ``(len(posts), 512)``, row ``i`` the multilingual USE
  embedding of post ``i`` (computed by Beffroi), so that D3lta neither downloads the model
  from TF-Hub nor the fastText language model (the languages are given);
- ``params.json``: ``min_size_txt``, ``threshold_grapheme``, ``threshold_language``,
  ``threshold_semantic`` (D3lta's defaults when absent).

and writes ``clusters.json``: ``{"clusters": [[post id, ...], ...], "seconds": float,
"matches": int, "kept": int}``, the clusters of at least two posts and the time of
``semantic_faiss`` alone (reading the files excluded).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

DEFAULTS = {
    "min_size_txt": 30,
    "threshold_grapheme": 0.693,
    "threshold_language": 0.715,
    "threshold_semantic": 0.85,
}


def read_input(directory: Path) -> tuple[list[dict[str, str]], Any, dict[str, Any]]:
    """Posts, embeddings and parameters from ``directory``."""
    with (directory / "posts.jsonl").open(encoding="utf-8") as handle:
        posts = [json.loads(line) for line in handle if line.strip()]
    embeddings = np.load(directory / "embeddings.npy")
    if embeddings.shape[0] != len(posts):
        raise ValueError(f"{embeddings.shape[0]} embeddings for {len(posts)} posts")
    params = dict(DEFAULTS)
    path = directory / "params.json"
    if path.exists():
        params.update(json.loads(path.read_text(encoding="utf-8")))
    return posts, embeddings, params


def clusters_from_frame(frame: Any, ids: list[str]) -> list[list[str]]:
    """D3lta's ``cluster`` column (row index = position as a string) as lists of post ids."""
    if "cluster" not in frame.columns:
        return []
    grouped: dict[int, list[str]] = {}
    for index, cluster in frame["cluster"].dropna().items():
        grouped.setdefault(int(cluster), []).append(ids[int(index)])
    return [sorted(members) for _, members in sorted(grouped.items()) if len(members) > 1]


def run(directory: Path) -> dict[str, Any]:
    """Run D3lta on the input in ``directory`` and write ``clusters.json`` there."""
    import pandas as pd
    from d3lta.faissd3lta import prepare_dataset, semantic_faiss

    posts, embeddings, params = read_input(directory)
    ids = [str(post["id"]) for post in posts]
    # D3lta's row index must be strings that faiss can read as int64 ids: the positions
    index = [str(i) for i in range(len(posts))]
    frame = pd.DataFrame(
        {
            "original": [post["text"] for post in posts],
            "language": [post["language"] for post in posts],
        },
        index=index,
    )
    started = time.perf_counter()
    # semantic_faiss drops the short texts itself; the embeddings must match what remains
    kept = prepare_dataset(frame, min_size_txt=params["min_size_txt"])
    vectors = pd.DataFrame(
        embeddings[[int(i) for i in kept.index]],
        index=kept.index,
        columns=[f"USE:{i}" for i in range(embeddings.shape[1])],
    )
    matches, clustered = semantic_faiss(
        kept,
        min_size_txt=params["min_size_txt"],
        df_embeddings_use=vectors,
        threshold_grapheme=params["threshold_grapheme"],
        threshold_language=params["threshold_language"],
        threshold_semantic=params["threshold_semantic"],
    )
    seconds = time.perf_counter() - started
    result = {
        "clusters": clusters_from_frame(clustered, ids),
        "seconds": seconds,
        "matches": len(matches),
        "kept": len(kept),
        "match_types": {str(k): int(v) for k, v in matches["dup_type"].value_counts().items()}
        if len(matches)
        else {},
    }
    (directory / "clusters.json").write_text(json.dumps(result), encoding="utf-8")
    return result


if __name__ == "__main__":
    run(Path(sys.argv[1]))
