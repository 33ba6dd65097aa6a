"""Per-cause precision and recall, printed the same way by scripts/eval-real-lines.py and scripts/eval-generic.py."""


def print_cause_table(tp, fp, fn):
    """Prints one line per cause from Counters of true positives, false positives and false negatives."""
    print(f"  {'cause':18} {'precision':>9} {'recall':>7}  (tp/fp/fn)")
    for c in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else 0
        rc = tp[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else 0
        print(f"  {c:18} {p:9.0%} {rc:7.0%}  ({tp[c]}/{fp[c]}/{fn[c]})")
