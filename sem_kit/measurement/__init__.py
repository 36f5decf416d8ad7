"""The measurement stage: item statistics, reliability, EFA, CFA and validity."""
