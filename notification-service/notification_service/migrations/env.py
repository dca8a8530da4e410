from library_common.migration_env import run

run()
