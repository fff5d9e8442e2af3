# The component store and packaging (docs/design/component_store.md): a library of its own so
# that what runs on a device (recipes, versions) does not link SQLite stores, keys or the
# registry. Included from libs/component/CMakeLists.txt.
vqi_library(component_store
  SOURCES src/store_sqlite.cc src/store_version.cc src/package_recipe.cc src/package_create.cc
          src/package_verify.cc src/package_model.cc src/package_registry.cc
  PUBLIC_DEPS vqi::base vqi::blob vqi::signing vqi::registry
  PRIVATE_DEPS vqi::component vqi::sqlite)

vqi_test(component_store_test
  SOURCES src/store_test.cc src/package_test.cc src/package_model_test.cc src/from_model_test.cc
  DEPS vqi::component_store vqi::component vqi::sqlite libzip::zip)
