{{ stage_source('core_banking', 'accounts') }}
