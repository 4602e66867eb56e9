{{ stage_source('bureau', 'credit_scores', renames={'risk_factors': 'bureau_risk_band'}) }}
