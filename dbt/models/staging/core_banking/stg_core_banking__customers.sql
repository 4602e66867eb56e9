{{ stage_source('core_banking', 'customers', renames={'account_created_date': 'customer_since'}) }}
