// The model file's types (ArchitectureConfig, SafeTensorsFile, ModelFileError, FileStamp) are
// part of the engine's interface: `import MAST` brings them.
@_exported import ModelFile
