"""`hullscan rescan` (issue #23): stored inventories re-matched against the current vulnerability DB without
touching the images, and what changed for each (docs/rescan.md).

- `select.py`: which images to re-match — the DB's change log (`changes_since`) against each image's last
  generation: only images holding a changed (ecosystem, package) pair or a finding with a changed id;
- `match.py`: matching many images at once, each distinct package once (images on one base share it);
- `categorize.py`: the one delta (delta/compare.py) of an image's judged findings before and after, in the
  rescan's categories;
- `run.py`: the run — select, match, judge, compare; the new state and the notification of each image
  committed together; then delivery;
- `model.py`, `document.py` (JSON, schemas/rescan.schema.json), `table.py`.
"""
