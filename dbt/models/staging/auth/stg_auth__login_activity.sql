{{ stage_source('auth', 'login_activity', renames={'login_timestamp': 'login_at'}) }}
