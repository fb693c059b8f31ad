package ketenhub;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;

/**
 * Validates every {@code *.json} FHIR R4 resource in a directory with HAPI FHIR's
 * FhirInstanceValidator (the official profile validator, offline: the R4 core definitions
 * come from hapi-fhir-validation-resources-r4). One JVM for the whole directory, because
 * startup and the first validation cost seconds.
 *
 * <p>Prints one tab-separated line per finding (file, severity, location, message) and a
 * summary line; exits 1 when any finding is an error or fatal, 2 on bad usage.
 */
public final class ValidateBundles {
  private ValidateBundles() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1 || !Files.isDirectory(Path.of(args[0]))) {
      System.err.println("usage: ValidateBundles DIRECTORY (of FHIR R4 JSON files)");
      System.exit(2);
    }
    List<Path> files;
    try (Stream<Path> listing = Files.list(Path.of(args[0]))) {
      files =
          listing.filter(p -> p.toString().endsWith(".json")).sorted().collect(Collectors.toList());
    }
    FhirContext context = FhirContext.forR4();
    ValidationSupportChain support =
        new ValidationSupportChain(
            new DefaultProfileValidationSupport(context),
            new CommonCodeSystemsTerminologyService(context),
            new InMemoryTerminologyServerValidationSupport(context),
            new SnapshotGeneratingValidationSupport(context));
    FhirInstanceValidator instanceValidator = new FhirInstanceValidator(support);
    FhirValidator validator = context.newValidator().registerValidatorModule(instanceValidator);

    int errors = 0;
    int warnings = 0;
    int information = 0;
    for (Path file : files) {
      ValidationResult result = validator.validateWithResult(Files.readString(file));
      for (SingleValidationMessage message : result.getMessages()) {
        ResultSeverityEnum severity = message.getSeverity();
        if (severity == ResultSeverityEnum.ERROR || severity == ResultSeverityEnum.FATAL) {
          errors++;
        } else if (severity == ResultSeverityEnum.WARNING) {
          warnings++;
        } else {
          information++;
        }
        System.out.println(
            String.join(
                "\t",
                file.getFileName().toString(),
                severity.getCode(),
                String.valueOf(message.getLocationString()),
                message.getMessage().replace('\n', ' ')));
      }
    }
    System.out.printf(
        "validated %d resources: %d errors, %d warnings, %d information%n",
        files.size(), errors, warnings, information);
    System.exit(errors > 0 ? 1 : 0);
  }
}
