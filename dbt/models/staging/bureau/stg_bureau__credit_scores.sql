{{ stage('stg_bureau__credit_scores') }}
