"""Analyses of trained models: evaluation reports (per class with bootstrap intervals, confusion,
emotion shift, length and position, per-modality heads, noise and missing-modality robustness),
run comparisons with a paired significance test, and the figures of both."""
from dialoggraph.analysis.compare import SeedPredictions, compare_runs, comparison_markdown
from dialoggraph.analysis.report import evaluation_report, robustness_scores, write_report
from dialoggraph.analysis.robustness import GaussianNoise, removed, zeroed

__all__ = ["GaussianNoise", "SeedPredictions", "compare_runs", "comparison_markdown", "evaluation_report",
           "removed", "robustness_scores", "write_report", "zeroed"]
