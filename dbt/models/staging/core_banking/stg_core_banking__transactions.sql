{{ stage('stg_core_banking__transactions') }}
