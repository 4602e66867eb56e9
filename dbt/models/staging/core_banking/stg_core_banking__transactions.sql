{{ stage_source('core_banking', 'transactions', renames={'transaction_date': 'transaction_at'}) }}
