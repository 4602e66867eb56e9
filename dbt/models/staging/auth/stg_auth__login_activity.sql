{{ stage('stg_auth__login_activity') }}
